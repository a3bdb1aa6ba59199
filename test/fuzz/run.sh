#!/usr/bin/env bash
# Fuzzes each parser of edgespec's inputs for a bounded time, starting from the checked-in
# corpus (test/fuzz/corpus/<target>/, whose regression-* inputs once broke a parser), and
# ends with `N passed, N failed`: one test per target.
#   Python (atheris): graph_json (bundle_validation), safetensors (safetensors_header),
#                     tflite (flatbuffer reader + lowering), onnx (loading + lowering)
#   TypeScript (seeded mutation fuzzer in jest): ts_graph_json (loadBundle), ts_safetensors
#
#   bash test/fuzz/run.sh [SECONDS_PER_TARGET]     default 20
#   EDGESPEC_FUZZ_TARGETS="safetensors tflite" bash test/fuzz/run.sh 300
# A failure prints the input's traceback and leaves the input in test-results/fuzz/; once
# fixed, add it to the corpus as regression-<what>. .venv/bin/python make_corpus.py remakes the seeds.
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${1:-20}
TARGETS=${EDGESPEC_FUZZ_TARGETS:-"graph_json safetensors tflite onnx ts"}
OUT=${EDGESPEC_FUZZ_OUT:-$PWD/test-results/fuzz}
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgespec-fuzz-run-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
passed=0; failed=0

verdict() { # target ok(0/1) detail
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "PASS $1 $3"; else failed=$((failed + 1)); echo "FAIL $1 $3"; fi
}

# One libFuzzer run: -timeout bounds each input (a hang fails), -rss_limit_mb its memory; new
# interesting inputs go to a scratch directory, never into the checked-in corpus.
fuzz_python() { # target
  local target=$1 log="$OUT/$1.log"
  mkdir -p "$WORK/$target"
  rm -f "$OUT/$target"-crash-* "$OUT/$target"-timeout-* "$OUT/$target"-oom-*
  timeout --kill-after=10 $((SECONDS_PER_TARGET + 120)) .venv/bin/python "test/fuzz/fuzz_$target.py" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$OUT/$target-" "$WORK/$target" "test/fuzz/corpus/$target" > "$log" 2>&1
  local rc=$? runs
  runs=$(grep -Eo '^Done [0-9]+ runs' "$log" | awk '{print $2}')
  if [ $rc -eq 0 ] && [ -n "$runs" ]; then
    verdict "$target" 0 "($runs inputs in ${SECONDS_PER_TARGET} s)"
  else
    grep -v -E '^(#[0-9]+|INFO:|WARNING:|[WI][0-9]{4} )' "$log" | tail -n 40
    verdict "$target" 1 "(exit $rc; log $log)"
  fi
}

fuzz_ts() {
  local json="$OUT/ts.json"
  rm -f "$json" "$OUT"/ts-*-crash-*
  EDGESPEC_FUZZ_SECONDS=$SECONDS_PER_TARGET EDGESPEC_FUZZ_OUT=$OUT \
    timeout --kill-after=10 $((2 * SECONDS_PER_TARGET + 180)) \
    npx jest --ci --config test/fuzz/jest.config.js --json --outputFile="$json" > "$OUT/ts.log" 2>&1
  local rc=$?
  if [ ! -f "$json" ]; then tail -n 40 "$OUT/ts.log"; verdict ts_fuzz 1 "(exit $rc, no results; log $OUT/ts.log)"; return; fi
  while IFS=$'\t' read -r status title; do
    [ "$status" = passed ] || grep -F -A 30 "$title" "$OUT/ts.log" | head -n 40
    verdict "ts: $title" "$([ "$status" = passed ] && echo 0 || echo 1)" ""
  done < <(node -e 'for (const f of require(process.argv[1]).testResults) { if (!f.assertionResults.length) console.log("failed\tsuite did not run: " + f.message.split("\n")[0]); for (const t of f.assertionResults) console.log(t.status + "\t" + t.title); }' "$json")
}

for target in $TARGETS; do
  case $target in
    graph_json|safetensors|tflite|onnx) fuzz_python "$target" ;;
    ts) fuzz_ts ;;
    *) verdict "$target" 1 "(unknown target)" ;;
  esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
