#!/usr/bin/env bash
# Runs kho's libFuzzer harnesses (built by `make V=fuzz fuzz-bin`).
#   fuzz/run.sh smoke      each harness for a fixed number of runs from its seed corpus (part of make test), TAP
#   fuzz/run.sh SECONDS    each harness for SECONDS, growing a working corpus in fuzz/corpus-<name>/
set -u
cd "$(dirname "$0")/.."
mode=${1:-smoke}
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
# every fuzz/fuzz_<name>.c is a harness
harnesses=()
for f in fuzz/fuzz_*.c; do h=${f#fuzz/fuzz_}; harnesses+=("${h%.c}"); done
if [[ $mode == smoke ]]; then
  echo "1..${#harnesses[@]}"
  i=0
  for h in "${harnesses[@]}"; do
    i=$((i+1))
    bin=build/fuzz/fuzz/fuzz_$h
    work=$(mktemp -d)
    cp fuzz/corpus/$h/* "$work"/ 2>/dev/null
    runs=20000
    [[ $h == ingest || $h == rowquery ]] && runs=2000   # each run works on an SQLite database
    [[ $h == indicators ]] && runs=600   # uploads rebuild every value over the whole unit list
    [[ $h == qr ]] && runs=5000   # libpng under ASan: about 1 ms a run
    if out=$("$bin" -runs=$runs -max_len=4096 -timeout=10 -rss_limit_mb=1024 -seed=1 "$work" 2>&1); then
      echo "ok $i - fuzz_$h: $runs runs"
    else
      echo "not ok $i - fuzz_$h"
      echo "$out" | tail -n 30 | sed 's/^/# /'
    fi
    rm -rf "$work"
  done
else
  for h in "${harnesses[@]}"; do
    mkdir -p fuzz/corpus-$h
    build/fuzz/fuzz/fuzz_$h -max_total_time="$mode" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      fuzz/corpus-$h fuzz/corpus/$h || exit 1
  done
fi
