#!/usr/bin/env bash
# Ingest benchmark: `kho import` against the sqlite3 CLI's `.import` of the same CSV
# into a plain table, in the same run. Also peak RSS of both, and kho's peak RSS on
# a file three times larger (memory must not grow with file size).
#
#   bash bench/ingest.sh            (ROWS=1000000 RUNS=5 by default)
#
# Needs: hyperfine, sqlite3, GNU time (make bench installs them). Writes
# bench/out/ingest.json (hyperfine) and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-5}
OUT=bench/out
KHO=$PWD/build/release/kho
mkdir -p $OUT
csv=$OUT/ingest-$ROWS.csv
big=$OUT/ingest-$((ROWS * 3)).csv
[[ -s $csv ]] || python3 bench/gen_csv.py "$ROWS" > "$csv"
[[ -s $big ]] || python3 bench/gen_csv.py "$((ROWS * 3))" > "$big"
echo "input: $csv ($(du -h "$csv" | cut -f1), $ROWS rows x 8 columns)"

hyperfine --runs "$RUNS" --warmup 1 --export-json $OUT/ingest.json \
  --prepare "rm -f $OUT/base.db $OUT/base.db-journal" \
  -n "sqlite3 .import" "sqlite3 $OUT/base.db '.import --csv $csv t'" \
  --prepare "rm -rf $OUT/kdata && $KHO init --data $OUT/kdata >/dev/null 2>&1" \
  -n "kho import" "$KHO import $csv --dataset bench --data $OUT/kdata"

rm -f $OUT/base.db && /usr/bin/time -f "%M" -o $OUT/rss-sqlite3 sqlite3 $OUT/base.db ".import --csv $csv t"
rm -rf $OUT/kdata && $KHO init --data $OUT/kdata >/dev/null 2>&1
/usr/bin/time -f "%M" -o $OUT/rss-kho $KHO import "$csv" --dataset bench --data $OUT/kdata >/dev/null
rm -rf $OUT/kdata && $KHO init --data $OUT/kdata >/dev/null 2>&1
/usr/bin/time -f "%M" -o $OUT/rss-kho-big $KHO import "$big" --dataset bench --data $OUT/kdata > $OUT/big.txt
python3 - "$OUT" "$ROWS" <<'PY'
import json, sys
out, rows = sys.argv[1], int(sys.argv[2])
r = {x["command"]: x for x in json.load(open(f"{out}/ingest.json"))["results"]}
s, k = r["sqlite3 .import"], r["kho import"]
rss = lambda f: int(open(f"{out}/{f}").read().split()[-1]) / 1024
print(f"sqlite3 .import : {s['mean']:.2f} s ± {s['stddev']:.2f} (median {s['median']:.2f}), peak RSS {rss('rss-sqlite3'):.0f} MB")
print(f"kho import      : {k['mean']:.2f} s ± {k['stddev']:.2f} (median {k['median']:.2f}), peak RSS {rss('rss-kho'):.0f} MB")
print(f"ratio kho/sqlite3 (mean): {k['mean'] / s['mean']:.2f}   target <= 1.5")
print(f"kho import of {3 * rows} rows: peak RSS {rss('rss-kho-big'):.0f} MB   ({open(f'{out}/big.txt').read().strip()})")
PY
