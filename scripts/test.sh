#!/usr/bin/env bash
# Runs every test suite of edgespec (installing what is missing first) and ends with one
# line `N passed, N failed` summing them all. Exit status is non-zero if anything failed.
#   suites: jest (TypeScript: toolchain, lab data logic), pytest (capture, server, TF),
#           kernels (C kernels on the host and under QEMU), e2e (JupyterLab in Chromium),
#           fuzz (each parser of graph.json, safetensors, .tflite and .onnx fuzzed for
#           EDGESPEC_FUZZ_SECONDS, default 20 s, from the corpus in test/fuzz/corpus).
# EDGESPEC_SUITES="jest pytest" runs a subset.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

RESULTS=test-results
mkdir -p "$RESULTS"
SUITES=${EDGESPEC_SUITES:-"kernels jest pytest fuzz e2e"}
# jest and pytest run their files on this many workers (most of a test waits on a compiler or
# QEMU, so two keep both cores busy); EDGESPEC_TEST_WORKERS=1 runs them one at a time.
WORKERS=${EDGESPEC_TEST_WORKERS:-2}
total_pass=0; total_fail=0
record() { # suite passed failed
  printf '%-8s %s passed, %s failed\n' "$1" "$2" "$3" >> "$RESULTS/summary.txt"
  total_pass=$((total_pass + $2)); total_fail=$((total_fail + $3))
}
: > "$RESULTS/summary.txt"

count_junit() { # file -> "passed failed"
  .venv/bin/python - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0)) + int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t - f - s, f)
PY
}

run_jest() { # suite [jest args...]: counts tests, and a suite file that failed to load as one failure
  local suite=$1; shift
  rm -f "$RESULTS/$suite.json"
  npx jest --ci "$@" --json --outputFile="$RESULTS/$suite.json" 2>&1 | tail -n 60
  if [ -f "$RESULTS/$suite.json" ]; then
    read -r p f < <(node -e 'const r=require(process.argv[1]);const broken=r.testResults.filter(t=>t.status==="failed"&&t.assertionResults.length===0).length;console.log(r.numPassedTests, r.numFailedTests+broken)' "$PWD/$RESULTS/$suite.json")
  else p=0; f=1; fi
  record "$suite" "$p" "$f"
}

for suite in $SUITES; do
  echo "=== suite: $suite ($(date +%T))"
  start=$(date +%s)
  case $suite in
    kernels)
      out=$(bash test/kernels/run.sh 2>&1); rc=$?
      echo "$out" | tail -n 40
      line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
      p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
      [ -n "$p" ] || { p=0; f=1; }
      [ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1
      record kernels "$p" "$f" ;;
    jest)
      run_jest jest --maxWorkers="$WORKERS" ;;
    pytest)
      .venv/bin/python -m pytest test/python -q -p no:cacheprovider -n "$WORKERS" --dist loadfile --durations=30 --junitxml="$RESULTS/pytest.xml" 2>&1 | tail -n 80
      read -r p f < <(count_junit "$RESULTS/pytest.xml")
      record pytest "$p" "$f" ;;
    fuzz)
      out=$(bash test/fuzz/run.sh "${EDGESPEC_FUZZ_SECONDS:-20}" 2>&1); rc=$?
      echo "$out" | tail -n 60
      line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
      p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
      [ -n "$p" ] || { p=0; f=1; }
      [ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1
      record fuzz "$p" "$f" ;;
    e2e)
      run_jest e2e --config test/e2e/jest.config.js --runInBand ;;
    *) echo "unknown suite $suite"; record "$suite" 0 1 ;;
  esac
  echo "=== $suite took $(( $(date +%s) - start )) s"
done

echo
cat "$RESULTS/summary.txt"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
