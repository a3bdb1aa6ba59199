#!/usr/bin/env bash
# Builds and runs the C runtime's tests:
#   - every fp32 kernel against naive double references: on the host (gcc -O2, the host
#     target's flags, and AddressSanitizer + UBSan), and bare metal under
#     qemu-system-aarch64 with and without NEON;
#   - guest instructions per multiply-add of the hot kernels and of a MobileNetV2-shaped
#     network (-icount shift=0,sleep=off), against budgets;
#   - faults (unmapped load, stack overflow, undefined instruction, write to read-only
#     weights) are reported with class, addresses and symbol, and end QEMU with status 3;
#   - a small model built like the generated ones, through the qemu-virt and host runners:
#     output agreement, refused inputs, byte-identical images from two build directories.
# Compiler and linker flags come from kernels/platform/<target>/build.json, as in the real
# build. Prints one line per check, then "N passed, N failed"; exits 1 on any failure.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
kernels=$root/kernels
work=$(mktemp -d "${TMPDIR:-/tmp}/edgespec-kernel-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT
qemu_timeout=${QEMU_TIMEOUT:-120}
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL $1"
  if [ -n "${2:-}" ] && [ -f "$2" ]; then tail -n 25 "$2" | sed 's/^/     | /'; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

missing=0
for tool in gcc:gcc aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu qemu-system-aarch64:qemu-system-arm python3:python3; do
  if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
    fail "tool ${tool%%:*} is missing: install it with apt-get install ${tool#*:}"
    missing=1
  fi
done
if [ ! -f /usr/lib/picolibc/aarch64-linux-gnu/picolibc.specs ]; then
  fail "picolibc for AArch64 is missing: install it with apt-get install picolibc-aarch64-linux-gnu"
  missing=1
fi
[ "$missing" -eq 0 ] || finish

# build_json TARGET KEY [BUILD_DIR IMAGE MAP]: a list from build.json, one item per line,
# with the placeholders filled in.
build_json() {
  python3 - "$kernels" "$1" "$2" "${3:-}" "${4:-}" "${5:-}" <<'PY'
import json, sys
kernels, target, key, build, image, map_ = sys.argv[1:7]
spec = json.load(open(f"{kernels}/platform/{target}/build.json"))
subst = {"${KERNELS}": kernels, "${BUILD}": build, "${IMAGE}": image, "${MAP}": map_}
for item in spec[key]:
    for k, v in subst.items():
        item = item.replace(k, v)
    print(item)
PY
}

# Suite output ends with "<suite>: N passed, M failed": add its counts.
count_suite() { # NAME LOG EXIT_STATUS
  local summary
  summary=$(grep -E '^[a-z_ ]+: [0-9]+ passed, [0-9]+ failed$' "$2" | tail -n 1)
  if [ -z "$summary" ]; then
    fail "$1: no summary line (exit status $3)" "$2"
    return
  fi
  local p f
  p=$(echo "$summary" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
  f=$(echo "$summary" | sed -E 's/.* ([0-9]+) failed$/\1/')
  passed=$((passed + p))
  failed=$((failed + f))
  grep '^FAIL' "$2" | sed "s/^FAIL /FAIL $1: /"
  if [ "$f" -eq 0 ] && [ "$3" -ne 0 ]; then fail "$1: exit status $3 with no failed check" "$2"; fi
  echo "ok   $1: $p checks passed, $f failed"
}

qemu() { # IMAGE [extra qemu args...]: runs in the current directory
  local image=$1
  shift
  timeout "$qemu_timeout" qemu-system-aarch64 -M virt -cpu cortex-a72 -m 1G -nodefaults \
    -display none -monitor none -serial none -chardev stdio,id=console \
    -semihosting-config enable=on,target=native,chardev=console -kernel "$image" "$@"
}

mapfile -t qv_cflags < <(build_json qemu-virt cflags "$work")
mapfile -t qv_libs < <(build_json qemu-virt libs)
mapfile -t host_cflags < <(build_json host cflags "$work")
mapfile -t platform_sources < <(build_json qemu-virt sources | grep -v 'qemu-virt/main.c' | sed "s|^|$kernels/|")
kernel_sources=("$kernels"/fp32/*.c "$kernels"/integer/*.c)
test_sources=("$here/harness.c" "$here/reference.c")
# suites whose entry points test_kernels.c's main calls (they need the fp32 kernels linked)
suite_sources=("$here/test_windows.c" "$here/test_norms.c" "$here/test_indices.c")

# link_qemu_virt DIR NAME OBJECTS...: links DIR/NAME.elf with build.json's ldflags.
link_qemu_virt() {
  local dir=$1 name=$2
  shift 2
  local ldflags
  mapfile -t ldflags < <(build_json qemu-virt ldflags "$dir" "$dir/$name.elf" "$dir/$name.map")
  aarch64-linux-gnu-gcc "${ldflags[@]}" -Wl,--defsym=__es_heap_size=0x10000000 "$@" "${qv_libs[@]}"
}

jobs=$(nproc 2>/dev/null || echo 2)

# compile CC DIR FLAGS_ARRAY SOURCES...: one object per source in DIR, compiled in parallel;
# prints the object paths; fails (with the compiler's messages on stderr) if any failed.
compile() {
  local cc=$1 dir=$2
  local -n flags_ref=$3
  shift 3
  mkdir -p "$dir"
  local pids=() objs=() src obj status=0
  for src in "$@"; do
    obj="$dir/$(basename "$src" | tr . _).o"
    objs+=("$obj")
    "$cc" "${flags_ref[@]}" -c "$src" -o "$obj" &
    pids+=($!)
    if [ "${#pids[@]}" -ge "$jobs" ]; then
      wait "${pids[0]}" || status=1
      pids=("${pids[@]:1}")
    fi
  done
  for obj in "${pids[@]}"; do wait "$obj" || status=1; done
  printf '%s\n' "${objs[@]}"
  return $status
}

# compile_qemu_virt DIR EXTRA_FLAGS... -- SOURCES...: build.json's cflags plus the extras.
compile_qemu_virt() {
  local dir=$1
  shift
  local cflags=("${qv_cflags[@]}" -I"$kernels/fp32")
  while [ "$1" != "--" ]; do cflags+=("$1"); shift; done
  shift
  compile aarch64-linux-gnu-gcc "$dir" cflags "$@"
}

# --- kernel tests on the host --------------------------------------------------------------
host_o2_flags=(-std=gnu11 -O2 -ffp-contract=fast -Wall -Wextra -Werror -I"$kernels/include")
log=$work/host-o2.log
if objs=$(compile gcc "$work/host-o2" host_o2_flags "${kernel_sources[@]}" "$here/test_kernels.c" "${suite_sources[@]}" \
            "${test_sources[@]}" 2>"$log") && gcc $objs -lm -o "$work/test_kernels_o2" 2>>"$log"; then
  "$work/test_kernels_o2" >"$log" 2>&1
  count_suite "kernels, host gcc -O2" "$log" $?
else
  fail "kernels, host gcc -O2: build failed" "$log"
fi

host_flags=("${host_cflags[@]}" -Werror)
log=$work/host-target.log
if host_kernel_objs=$(compile gcc "$work/host-kernels" host_flags "${kernel_sources[@]}" 2>"$log") &&
   objs=$(compile gcc "$work/host-tests" host_flags "$here/test_kernels.c" "${suite_sources[@]}" "${test_sources[@]}" 2>>"$log") &&
   gcc $host_kernel_objs $objs -lm -o "$work/test_kernels_host" 2>>"$log"; then
  "$work/test_kernels_host" >"$log" 2>&1
  count_suite "kernels, host target flags (-O3 -march=native)" "$log" $?
else
  fail "kernels, host target flags: build failed" "$log"
fi

# The same flags with other fp32 block sizes than this machine's (the build chooses them from
# the CPU, src/toolchain/build/fp32Blocking.ts): short slices and a panel of one or two strips,
# so that every convolution with more than 64 reduction values is cut into several slices;
# Winograd buffers of 64 KiB, so that some of the Winograd cases take the direct path. Where
# the machine's flags take the GEMM's 6 x 16 tile on AVX-512 (-DES_FP32_SPLIT_512, AMD Zen 4),
# this variant leaves that out, so that both tiles are tested.
host_blocks_flags=()
for flag in "${host_cflags[@]}"; do [ "$flag" = -DES_FP32_SPLIT_512 ] || host_blocks_flags+=("$flag"); done
host_blocks_flags+=(-Werror -DES_FP32_KC=64 -DES_FP32_PANEL=2048 -DES_FP32_SCRATCH=16384)
log=$work/host-blocks.log
if objs=$(compile gcc "$work/host-blocks" host_blocks_flags "${kernel_sources[@]}" 2>"$log") &&
   gcc $objs "$work"/host-tests/*.o -lm -o "$work/test_kernels_blocks" 2>>"$log"; then
  "$work/test_kernels_blocks" >"$log" 2>&1
  count_suite "kernels, host target flags with -DES_FP32_KC=64 -DES_FP32_PANEL=2048 -DES_FP32_SCRATCH=16384" "$log" $?
else
  fail "kernels, host target flags with other fp32 blocks: build failed" "$log"
fi

# Out-of-bounds accesses (stack, heap) and undefined behaviour: AddressSanitizer and UBSan.
sanitize_flags=(-std=gnu11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra
                -Werror -I"$kernels/include")
log=$work/host-sanitizers.log
if objs=$(compile gcc "$work/host-sanitizers" sanitize_flags "${kernel_sources[@]}" "$here/test_kernels.c" "${suite_sources[@]}" \
            "${test_sources[@]}" 2>"$log") &&
   gcc -fsanitize=address,undefined $objs -lm -o "$work/test_kernels_sanitizers" 2>>"$log"; then
  "$work/test_kernels_sanitizers" >"$log" 2>&1
  count_suite "kernels, host with AddressSanitizer and UBSan" "$log" $?
else
  fail "kernels, host with sanitizers: build failed" "$log"
fi

# --- kernel tests and benchmark bare metal (qemu-virt) -------------------------------------
# Platform and kernel objects are compiled once per variant and shared by the programs below.
log=$work/bm-objects.log
platform_objs=$(compile_qemu_virt "$work/platform" -Werror -- "${platform_sources[@]}" 2>"$log") || {
  fail "qemu-virt platform: build failed" "$log"
  finish
}
neon_objs=$(compile_qemu_virt "$work/kernels-neon" -Werror -- "${kernel_sources[@]}" 2>>"$log") &&
  portable_objs=$(compile_qemu_virt "$work/kernels-portable" -Werror -DES_NO_NEON -- "${kernel_sources[@]}" 2>>"$log") &&
  test_objs=$(compile_qemu_virt "$work/tests" -Werror -- "$here/test_kernels.c" "${suite_sources[@]}" "${test_sources[@]}" 2>>"$log") &&
  bench_objs=$(compile_qemu_virt "$work/bench" -Werror -- "$here/bench_kernels.c" 2>>"$log") || {
  fail "qemu-virt kernels and tests: build failed" "$log"
  finish
}
harness_obj=$work/tests/harness_c.o

for variant in neon portable; do
  dir=$work/bm-$variant
  mkdir -p "$dir"
  log=$dir.log
  objs=$neon_objs
  [ "$variant" = portable ] && objs=$portable_objs
  if link_qemu_virt "$dir" test_kernels $platform_objs $objs $test_objs >"$log" 2>&1; then
    (cd "$dir" && qemu "$dir/test_kernels.elf") >"$log" 2>&1
    count_suite "kernels, qemu-virt bare metal ($variant)" "$log" $?
  else
    fail "kernels, qemu-virt ($variant): link failed" "$log"
  fi
done

dir=$work/bench
log=$work/bench.log
if link_qemu_virt "$dir" bench $platform_objs $neon_objs $bench_objs "$harness_obj" >"$log" 2>&1; then
  (cd "$dir" && qemu "$dir/bench.elf" -icount shift=0,sleep=off) >"$log" 2>&1
  status=$?
  grep -E "^bench: .*per_(mac|element)" "$log" | sed -E 's/ virtual_seconds=[0-9.]+//; s/^bench: /     instructions: /'
  count_suite "guest instruction budgets (-icount shift=0,sleep=off)" "$log" $status
else
  fail "benchmark: link failed" "$log"
fi

# --- int8 kernels: bit-exact against reference integer arithmetic ---------------------------
int8_sources=("$kernels"/int8/*.c)
# suites whose entry points test_int8.c's main calls
int8_suite_sources=("$here/test_windows_int8.c" "$here/test_indices_int8.c")
# Under the sanitizers: the portable C path, the AVX2 path (kernels/int8/panel_avx2.h) where
# the CPU has AVX2, and the AVX-512 VNNI path (panel_vnni.h, the masked channel tails) where
# it has that.
int8_sanitize_variants=(portable)
grep -qw avx2 /proc/cpuinfo 2>/dev/null && int8_sanitize_variants+=(avx2)
grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null && grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo &&
  int8_sanitize_variants+=(vnni)
for variant in "${int8_sanitize_variants[@]}"; do
  log=$work/int8-host-sanitizers-$variant.log
  int8_sanitize_flags=("${sanitize_flags[@]}")
  [ "$variant" = avx2 ] && int8_sanitize_flags+=(-mavx2 -mfma)
  [ "$variant" = vnni ] && int8_sanitize_flags+=(-mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512vnni)
  if objs=$(compile gcc "$work/int8-host-sanitizers-$variant" int8_sanitize_flags "${int8_sources[@]}" "$here/test_int8.c" \
              "${int8_suite_sources[@]}" "$here/harness.c" 2>"$log") &&
     gcc -fsanitize=address,undefined $objs -lm -o "$work/test_int8_sanitizers_$variant" 2>>"$log"; then
    "$work/test_int8_sanitizers_$variant" >"$log" 2>&1
    count_suite "int8 kernels, host with AddressSanitizer and UBSan ($variant)" "$log" $?
  else
    fail "int8 kernels, host with sanitizers ($variant): build failed" "$log"
  fi
done
log=$work/int8-host-target.log
if objs=$(compile gcc "$work/int8-host-target" host_flags "${int8_sources[@]}" "$here/test_int8.c" "${int8_suite_sources[@]}" "$here/harness.c" 2>"$log") &&
   gcc $objs -lm -o "$work/test_int8_host" 2>>"$log"; then
  "$work/test_int8_host" >"$log" 2>&1
  count_suite "int8 kernels, host target flags (-O3 -march=native)" "$log" $?
else
  fail "int8 kernels, host target flags: build failed" "$log"
fi
# The same flags without the x86 vector paths (AVX2, AVX-512 VNNI): the portable C kernels as
# gcc vectorizes them for this CPU.
log=$work/int8-host-portable.log
host_portable_flags=("${host_flags[@]}" -DES_NO_X86_SIMD)
if objs=$(compile gcc "$work/int8-host-portable" host_portable_flags "${int8_sources[@]}" "$here/test_int8.c" "${int8_suite_sources[@]}" "$here/harness.c" 2>"$log") &&
   gcc $objs -lm -o "$work/test_int8_host_portable" 2>>"$log"; then
  "$work/test_int8_host_portable" >"$log" 2>&1
  count_suite "int8 kernels, host target flags with -DES_NO_X86_SIMD" "$log" $?
else
  fail "int8 kernels, host target flags with -DES_NO_X86_SIMD: build failed" "$log"
fi
for variant in neon portable; do
  dir=$work/int8-bm-$variant
  log=$dir.log
  extra=()
  [ "$variant" = portable ] && extra=(-DES_NO_NEON)
  if objs=$(compile_qemu_virt "$dir" -Werror "${extra[@]}" -- "${int8_sources[@]}" "$here/test_int8.c" "${int8_suite_sources[@]}" 2>"$log") &&
     link_qemu_virt "$dir" test_int8 $platform_objs $objs "$harness_obj" >>"$log" 2>&1; then
    (cd "$dir" && qemu "$dir/test_int8.elf") >"$log" 2>&1
    count_suite "int8 kernels, qemu-virt bare metal ($variant)" "$log" $?
  else
    fail "int8 kernels, qemu-virt ($variant): build failed" "$log"
  fi
done

# --- faults ----------------------------------------------------------------------------------
# Two links: the second adds the symbol table generated from the first, which must not move
# any code (the table's section comes last).
expect_fault() { # NUMBER NAME PATTERN...
  local n=$1 name=$2
  shift 2
  local dir=$work/fault$n
  log=$dir.log
  if ! objs=$(compile_qemu_virt "$dir" -DFAULT="$n" -- "$here/fault_test.c" 2>"$log") ||
     ! link_qemu_virt "$dir" pass1 $platform_objs $objs >>"$log" 2>&1 ||
     ! "$here/gen_symbols.sh" "$dir/pass1.elf" >"$dir/symbols.c" 2>>"$log" ||
     ! sym=$(compile_qemu_virt "$dir/sym" -- "$dir/symbols.c" 2>>"$log") ||
     ! link_qemu_virt "$dir" fault $platform_objs $objs $sym >>"$log" 2>&1; then
    fail "fault $name: build failed" "$log"
    return
  fi
  functions() { aarch64-linux-gnu-readelf -sW "$1" | awk '$4 == "FUNC" { print $2, $3, $8 }' | sort; }
  functions "$dir/pass1.elf" >"$dir/pass1.functions"
  functions "$dir/fault.elf" >"$dir/fault.functions"
  if [ -s "$dir/pass1.functions" ] && cmp -s "$dir/pass1.functions" "$dir/fault.functions"; then
    pass "fault $name: adding the symbol table moved no function ($(wc -l <"$dir/pass1.functions") functions)"
  else
    diff "$dir/pass1.functions" "$dir/fault.functions" >"$dir/functions.diff"
    fail "fault $name: the second link (with symbols) moved functions" "$dir/functions.diff"
  fi
  local start=$SECONDS
  (cd "$dir" && qemu "$dir/fault.elf") >"$log" 2>&1
  local status=$?
  if [ "$status" -ne 3 ]; then
    fail "fault $name: QEMU exit status $status, expected 3 (after $((SECONDS - start)) s)" "$log"
    return
  fi
  local pattern
  for pattern in "$@"; do
    if ! grep -qE "$pattern" "$log"; then
      fail "fault $name: console lacks /$pattern/" "$log"
      return
    fi
  done
  pass "fault $name: exit 3, reported as $(grep -m1 'edgespec: fault: ' "$log" | sed 's/edgespec: fault: //')"
}
expect_fault 1 "unmapped load" "data abort \(same EL\), translation fault level 1, read" \
  "far=0x400000000 " "symbol=fault_read_unmapped\+0x" "status=failed exit=3"
expect_fault 2 "stack overflow" "data abort \(same EL\), translation fault level 2, write" \
  "symbol=fault_recurse\+0x" "stack overflow: the 65536-byte stack ran into its guard"
expect_fault 3 "undefined instruction" "unknown reason \(undefined instruction\)" "esr=0x2000000 " \
  "symbol=fault_undefined_instruction\+0x"
expect_fault 4 "write to read-only image" "permission fault level 2, write" "symbol=fault_write_read_only\+0x"

# --- a model through the platform runners ---------------------------------------------------
fixture=$here/fixture
fx=$work/fixture
mkdir -p "$fx"
log=$fx/tool.log
if gcc -std=gnu11 -O2 -Wall -Wextra -Werror -I"$kernels/include" "$fixture/fixture_tool.c" \
     "$kernels/platform/common/io_format.c" "${test_sources[@]}" -lm -o "$fx/fixture_tool" >"$log" 2>&1 &&
   "$fx/fixture_tool" make "$fx" >>"$log" 2>&1 && "$fx/fixture_tool" bad-input "$fx" >>"$log" 2>&1; then
  pass "fixture: weights, inputs and reference outputs written"
else
  fail "fixture: tool failed" "$log"
  finish
fi

# build_fixture_image DIR: the model the way the TS build links it (two-pass symbols).
build_fixture_image() {
  local dir=$1 objs main sym
  mkdir -p "$dir"
  cp "$fx/weights.bin" "$dir/weights.bin"
  objs=$(compile_qemu_virt "$dir" -- "${platform_sources[@]}" "${kernel_sources[@]}" \
           "$fixture/model.c" 2>&1) || { echo "$objs"; return 1; }
  main=$(compile_qemu_virt "$dir" -DES_OUTPUT_BYTES=128 -- "$kernels/platform/qemu-virt/main.c") || return 1
  (cd "$dir" && aarch64-linux-gnu-gcc "${qv_cflags[@]}" -I"$dir" -c "$fixture/weights.S" -o "$dir/weights.o") || return 1
  link_qemu_virt "$dir" pass1 $objs $main "$dir/weights.o" || return 1
  "$here/gen_symbols.sh" "$dir/pass1.elf" >"$dir/symbols.c" || return 1
  sym=$(compile_qemu_virt "$dir/sym" -- "$dir/symbols.c") || return 1
  link_qemu_virt "$dir" model $objs $main "$dir/weights.o" $sym
}

image_dir=$fx/qemu-virt
log=$fx/build.log
if build_fixture_image "$image_dir" >"$log" 2>&1; then
  pass "fixture qemu-virt image built ($(stat -c %s "$image_dir/model.elf") bytes)"
  run_dir=$fx/run
  mkdir -p "$run_dir"
  cp "$fx/input.bin" "$run_dir/input.bin"
  (cd "$run_dir" && qemu "$image_dir/model.elf" -icount shift=0,sleep=off \
     -device loader,file=input.bin,addr=0x70000000,force-raw=on) >"$run_dir/console.log" 2>&1
  status=$?
  if [ "$status" -eq 0 ] && grep -q '^edgespec: status=ok$' "$run_dir/console.log" &&
     grep -qE '^edgespec: invoke_instructions=[0-9]+$' "$run_dir/console.log" &&
     grep -qE '^edgespec: run_instructions=[0-9]+$' "$run_dir/console.log" &&
     grep -q '^edgespec: model=fixture_cnn inputs=2 outputs=2$' "$run_dir/console.log"; then
    pass "fixture qemu-virt run: exit 0, $(grep -o 'invoke_instructions=[0-9]*' "$run_dir/console.log")"
  else
    fail "fixture qemu-virt run: exit status $status" "$run_dir/console.log"
  fi
  if "$fx/fixture_tool" check "$fx/expected.bin" "$run_dir/output.bin" >"$log" 2>&1; then
    pass "fixture qemu-virt output.bin agrees with the double reference (1e-5 x max|ref|)"
  else
    fail "fixture qemu-virt output.bin" "$log"
  fi
  if [ -e "$run_dir/output.bin.partial" ]; then fail "fixture qemu-virt left output.bin.partial behind"; fi

  refused() { # NAME LOG STATUS PATTERN
    if [ "$3" -eq 2 ] && grep -qE "$4" "$2" && grep -q '^edgespec: status=failed exit=2$' "$2"; then
      pass "$1: refused with exit 2: $(grep -m1 'edgespec: error' "$2" | sed 's/edgespec: error: //; s/ (QEMU: [^)]*)//')"
    else
      fail "$1: expected exit 2 and /$4/, got exit $3" "$2"
    fi
  }
  for bad in wrong-size one-tensor raw; do
    bad_dir=$fx/bad-$bad
    mkdir -p "$bad_dir"
    echo "stale" >"$bad_dir/output.bin" # an earlier run's output must not survive a failed one
    (cd "$bad_dir" && qemu "$image_dir/model.elf" \
       -device loader,file="$fx/input-$bad.bin",addr=0x70000000,force-raw=on) >"$bad_dir/console.log" 2>&1
    status=$?
    case $bad in
      wrong-size) pattern="tensor 1 is 44 bytes, the model expects 40 bytes" ;;
      one-tensor) pattern="holds 1 tensors, the model has 2" ;;
      raw) pattern="no edgespec header" ;;
    esac
    refused "fixture qemu-virt input $bad" "$bad_dir/console.log" "$status" "$pattern"
    if [ -e "$bad_dir/output.bin" ]; then fail "fixture qemu-virt input $bad: an output.bin remains"; fi
  done
  bad_dir=$fx/bad-none
  mkdir -p "$bad_dir"
  (cd "$bad_dir" && qemu "$image_dir/model.elf") >"$bad_dir/console.log" 2>&1
  refused "fixture qemu-virt without -device loader" "$bad_dir/console.log" $? "no edgespec header"

  # Same bundle, different build directory: the same bytes.
  if build_fixture_image "$fx/qemu-virt-again" >"$log" 2>&1 && cmp -s "$image_dir/model.elf" "$fx/qemu-virt-again/model.elf"; then
    pass "fixture qemu-virt image is byte-identical when built again in another directory"
  else
    fail "fixture qemu-virt images differ between two builds" "$log"
  fi
else
  fail "fixture qemu-virt image: build failed" "$log"
fi

host_dir=$fx/host
mkdir -p "$host_dir"
log=$host_dir/build.log
mapfile -t host_sources < <(build_json host sources | sed "s|^|$kernels/|")
mapfile -t host_ldflags < <(build_json host ldflags "$host_dir" "$host_dir/model" "")
mapfile -t host_libs < <(build_json host libs)
cp "$fx/weights.bin" "$host_dir/weights.bin"
fixture_host_flags=("${host_flags[@]}" -I"$host_dir")
if objs=$(cd "$host_dir" && compile gcc "$host_dir" fixture_host_flags "${host_sources[@]}" "$fixture/model.c" \
            "$fixture/weights.S" 2>"$log") &&
   gcc $objs $host_kernel_objs "${host_ldflags[@]}" "${host_libs[@]}" 2>>"$log"; then
  (cd "$host_dir" && ./model "$fx/input.bin" "$host_dir/output.bin" --repeat 5) >"$host_dir/console.log" 2>&1
  status=$?
  if [ "$status" -eq 0 ] && grep -qE '^edgespec: invoke_ns=[0-9]+$' "$host_dir/console.log" &&
     grep -q '^edgespec: status=ok$' "$host_dir/console.log" &&
     "$fx/fixture_tool" check "$fx/expected.bin" "$host_dir/output.bin" >"$log" 2>&1; then
    pass "fixture host run: exit 0, output agrees, $(grep -o 'invoke_ns=[0-9]*' "$host_dir/console.log")"
  else
    fail "fixture host run: exit status $status" "$host_dir/console.log"
    cat "$log"
  fi
  "$host_dir/model" "$fx/input-wrong-size.bin" "$host_dir/bad.bin" >"$host_dir/bad.log" 2>&1
  refused "fixture host input wrong-size" "$host_dir/bad.log" $? "tensor 1 is 44 bytes"
  "$host_dir/model" "$host_dir/no-such-input.bin" "$host_dir/bad.bin" >"$host_dir/missing.log" 2>&1
  refused "fixture host missing input file" "$host_dir/missing.log" $? "cannot open input .*no-such-input.bin"
  if [ -e "$host_dir/bad.bin" ]; then fail "fixture host wrote an output for a refused input"; fi
else
  fail "fixture host: build failed" "$log"
fi

linux_dir=$fx/linux
mkdir -p "$linux_dir"
log=$linux_dir/build.log
if command -v qemu-aarch64 >/dev/null 2>&1; then
  mapfile -t linux_cflags < <(build_json linux cflags "$linux_dir")
  mapfile -t linux_sources < <(build_json linux sources | sed "s|^|$kernels/|")
  mapfile -t linux_ldflags < <(build_json linux ldflags "$linux_dir" "$linux_dir/model" "")
  cp "$fx/weights.bin" "$linux_dir/weights.bin"
  linux_flags=("${linux_cflags[@]}" -Werror -I"$linux_dir")
  if objs=$(cd "$linux_dir" && compile aarch64-linux-gnu-gcc "$linux_dir" linux_flags "${linux_sources[@]}" \
              "${kernel_sources[@]}" "$fixture/model.c" "$fixture/weights.S" 2>"$log") &&
     aarch64-linux-gnu-gcc $objs "${linux_ldflags[@]}" "${host_libs[@]}" 2>>"$log" &&
     (cd "$linux_dir" && timeout "$qemu_timeout" qemu-aarch64 -cpu cortex-a72 ./model "$fx/input.bin" output.bin) >"$linux_dir/console.log" 2>&1 &&
     grep -q '^edgespec: status=ok$' "$linux_dir/console.log" &&
     "$fx/fixture_tool" check "$fx/expected.bin" "$linux_dir/output.bin" >"$log" 2>&1; then
    pass "fixture linux (static AArch64, qemu-aarch64): exit 0, output agrees"
  else
    fail "fixture linux (static AArch64, qemu-aarch64)" "$log"
  fi
else
  fail "qemu-aarch64 is missing: install it with apt-get install qemu-user"
fi

finish
