#!/usr/bin/env bash
# Runs the coverage-guided fuzz targets of fuzz/ (libFuzzer, through libfuzzer-sys).
#
#   scripts/fuzz.sh [--seconds S | --runs N] [--asan] [TARGET...]
#
# Every target by default: tflite_import, model_dir, program_decode, assemble, mem_image,
# config. --seconds S fuzzes each target for S seconds (default 60); --runs N stops each after
# N inputs (what CI does: a fixed amount of work). --asan adds AddressSanitizer (our code is
# safe Rust; it watches the unsafe code below it, at a cost). Each target starts from its seeds
# (fuzz/seeds/TARGET; the importer's also from tflite/tests/data) and regression inputs
# (fuzz/regressions/TARGET: every crash found, fixed and kept); what it learns stays in
# fuzz/corpus/TARGET (not in git). A crash is written to fuzz/artifacts/TARGET/ and fails the
# script, naming the file; add it to fuzz/regressions/TARGET once fixed.
#
# The targets build with cargo and this machine's stable Rust, with the instrumentation flags
# `cargo fuzz` passes (RUSTC_BOOTSTRAP=1 lets stable rustc take --asan's); fuzz/ is also a
# cargo-fuzz project, so `cd fuzz && cargo fuzz run TARGET` works where cargo-fuzz is
# installed.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(tflite_import model_dir program_decode assemble mem_image config)
mode=(-max_total_time=60)
asan=false
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) mode=(-max_total_time="${2:?--seconds takes a number}"); shift 2 ;;
    --runs) mode=(-runs="${2:?--runs takes a number}"); shift 2 ;;
    --asan) asan=true; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      if [[ ! " ${all[*]} " == *" $1 "* ]]; then
        echo "fuzz.sh: no target $1; the targets are: ${all[*]}" >&2
        exit 2
      fi
      targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

# As cargo-fuzz 0.13 builds: coverage counters, comparisons traced, `cfg(fuzzing)`; the flags
# reach only the targets' code (--target keeps them off build scripts and proc macros).
triple=$(rustc -vV | sed -n 's/^host: //p')
flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
flags+=" -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares"
flags+=" --cfg fuzzing -Cdebug-assertions"
target_dir=fuzz/target/plain
if $asan; then
  flags+=" -Zsanitizer=address"
  target_dir=fuzz/target/asan
fi
echo "fuzz.sh: building ${targets[*]} ($($asan && echo 'with' || echo 'without') AddressSanitizer)" >&2
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" cargo build --release --locked --quiet \
  --manifest-path fuzz/Cargo.toml --target "$triple" --target-dir "$target_dir" \
  "${targets[@]/#/--bin=}" \
  || { echo "fuzz.sh: building the fuzz targets failed" >&2; exit 1; }

cd fuzz
failed=()
printf '%-16s %12s %8s %8s %8s  %s\n' target executions seconds cov ft result
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  dirs=("corpus/$t")
  for d in "seeds/$t" "regressions/$t"; do [ -d "$d" ] && dirs+=("$d"); done
  # The importer's test models seed it.
  [ "$t" = tflite_import ] && dirs+=(../tflite/tests/data)
  log="artifacts/$t/last-run.log"
  start=$(date +%s)
  if "../$target_dir/$triple/release/$t" "${dirs[@]}" "${mode[@]}" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
      >"$log" 2>&1; then
    result=ok
  else
    result="CRASH: $(grep -ao "artifacts/$t/[a-z]*-[0-9a-f]*" "$log" | head -n 1)"
    failed+=("$t")
  fi
  runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -ao '[0-9]*$' || echo '?')
  cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -n 1 | grep -ao '[0-9]*' || echo '?')
  ft=$(grep -ao 'ft: [0-9]*' "$log" | tail -n 1 | grep -ao '[0-9]*' || echo '?')
  printf '%-16s %12s %8s %8s %8s  %s\n' "$t" "$runs" "$(( $(date +%s) - start ))" "$cov" "$ft" \
    "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${failed[*]} crashed; the logs are fuzz/artifacts/TARGET/last-run.log" >&2
  exit 1
fi
