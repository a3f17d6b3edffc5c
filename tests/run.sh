#!/usr/bin/env bash
# Runs every kho test and ends with the line "N passed, N failed".
#
#   1. the banned-function check over src/
#   2. unit tests (cmocka) of the normal build and of the ASan+UBSan build
#   3. end-to-end tests (real binary, real HTTP on 127.0.0.1) against both builds
#   4. browser tests of the portal pages (headless Chromium, tests/browser/run.mjs) against the
#      normal build
#   5. short libFuzzer runs over the parsers (ASan+UBSan)
#
# Each test prints one line: "ok - name" or "not ok - name". Test programs speak
# TAP; a program that dies before reporting all its planned tests counts the
# missing ones as failed. Usage: tests/run.sh [banned|unit|e2e|browser|fuzz]...
set -u
cd "$(dirname "$0")/.."

pass=0
fail=0
failed=()
want=${*:-banned unit e2e browser fuzz}

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export CMOCKA_MESSAGE_OUTPUT=TAP

# Read TAP from stdin; count results under a prefix. Args: prefix, exit status of the producer.
tally() {
  local prefix=$1 status=$2 plan=0 seen=0 line
  while IFS= read -r line; do
    case "$line" in
      "ok "*)     seen=$((seen+1)); pass=$((pass+1)); echo "ok - $prefix: ${line#ok * - }" ;;
      "not ok "*) seen=$((seen+1)); fail=$((fail+1)); failed+=("$prefix: ${line#not ok * - }")
                  echo "not ok - $prefix: ${line#not ok * - }" ;;
      1..*)       plan=${line#1..} ;;
      "#"*)       echo "    $line" ;;
    esac
  done
  if [[ $plan -gt $seen ]]; then
    local missing=$((plan-seen))
    fail=$((fail+missing)); failed+=("$prefix: $missing tests never reported (crash? exit $status)")
    echo "not ok - $prefix: $missing planned tests never reported (exit status $status)"
  elif [[ $plan -eq 0 && $seen -eq 0 ]]; then
    fail=$((fail+1)); failed+=("$prefix: produced no results (exit $status)")
    echo "not ok - $prefix: produced no results (exit status $status)"
  fi
}

run_tap() { # prefix, command...
  local prefix=$1; shift
  local out; out=$(mktemp)
  "$@" >"$out" 2>"$out.err"
  local status=$?
  tally "$prefix" "$status" <"$out"
  if [[ $status -ne 0 ]]; then
    echo "    ($prefix exited with status $status; its stderr follows)"
    tail -n 40 "$out.err" | sed 's/^/    | /'
  fi
  rm -f "$out" "$out.err"
}

for part in $want; do
  case "$part" in
    banned)
      if out=$(bash scripts/check-banned.sh 2>&1); then
        pass=$((pass+1)); echo "ok - banned functions: none in src/"
      else
        fail=$((fail+1)); failed+=("banned functions"); echo "not ok - banned functions"; echo "$out" | sed 's/^/    | /'
      fi ;;
    unit)
      for v in release asan; do
        for t in build/$v/tests/*_test; do
          [[ -x $t ]] || continue
          run_tap "unit/$v/$(basename "$t")" "$t"
        done
      done ;;
    e2e)
      for v in release asan; do
        run_tap "e2e/$v" python3 tests/e2e/run.py --bin "build/$v/kho" --variant "$v"
      done ;;
    browser)
      run_tap "browser" node tests/browser/run.mjs build/release/kho ;;
    fuzz)
      run_tap "fuzz" bash fuzz/run.sh smoke ;;
    *) echo "unknown part '$part' (use banned, unit, e2e, browser, fuzz)" >&2; exit 2 ;;
  esac
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo
  echo "Failed:"
  printf '  %s\n' "${failed[@]}"
fi
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
