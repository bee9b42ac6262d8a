#!/usr/bin/env bash
# Runs the coverage-guided fuzz targets of fuzz/ (libFuzzer through cargo fuzz).
#
#   scripts/fuzz.sh [--seconds S | --runs N] [TARGET...]
#
# Every target by default: tflite_import, model_dir, program_decode, assemble, mem_image,
# config. --seconds S fuzzes each target for S seconds (default 60); --runs N stops each after
# N inputs (what CI does, a fixed amount of work). Each target starts from its seeds
# (fuzz/seeds/TARGET) and its regression inputs (fuzz/regressions/TARGET: every crash found,
# fixed and kept); what it learns stays in fuzz/corpus/TARGET (not in git). A crash is written
# to fuzz/artifacts/TARGET/ and fails the script, naming the file; add it to
# fuzz/regressions/TARGET once fixed.
#
# cargo-fuzz is installed from crates.io if missing. It builds with this machine's stable
# Rust: RUSTC_BOOTSTRAP=1 lets stable rustc take the sanitizer flags cargo fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(tflite_import model_dir program_decode assemble mem_image config)
mode=(-max_total_time=60)
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) mode=(-max_total_time="${2:?--seconds takes a number}"); shift 2 ;;
    --runs) mode=(-runs="${2:?--runs takes a number}"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
  cargo install cargo-fuzz --version 0.13.2 --locked --quiet \
    || { echo "fuzz.sh: cannot install cargo-fuzz from crates.io" >&2; exit 1; }
fi
export RUSTC_BOOTSTRAP=1
cd fuzz
cargo fuzz build -O || { echo "fuzz.sh: building the fuzz targets failed" >&2; exit 1; }

failed=()
printf '%-16s %12s %8s %8s %8s  %s\n' target executions seconds cov ft result
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  dirs=("corpus/$t" "seeds/$t")
  [ -d "regressions/$t" ] && dirs+=("regressions/$t")
  log="artifacts/$t/last-run.log"
  start=$(date +%s)
  if cargo fuzz run -O "$t" "${dirs[@]}" -- "${mode[@]}" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result="CRASH: $(grep -o "artifacts/$t/[a-z]*-[0-9a-f]*" "$log" | head -n 1)"
    failed+=("$t")
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo '?')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo '?')
  printf '%-16s %12s %8s %8s %8s  %s\n' "$t" "$runs" "$(( $(date +%s) - start ))" "$cov" "$ft" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${failed[*]} crashed; the logs are fuzz/artifacts/TARGET/last-run.log" >&2
  exit 1
fi
