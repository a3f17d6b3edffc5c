#!/usr/bin/env bash
# Does a CSV export's memory grow with its size? (issue "Open data portal": "a 5-million-row export
# must not grow RSS"). For each size in SIZES (default "1000000 5000000") rows: import a dataset of
# that many rows, start `kho serve`, export it once with curl (warming the worker), then again while
# sampling the server's anonymous RSS every 20 ms; report MB/s and the peak growth over the RSS
# before the second export. Flat means: the growth does not follow the number of rows.
#   bash bench/export_rss.sh        (KHO=binary)
set -euo pipefail
cd "$(dirname "$0")/.."
KHO=${KHO:-$PWD/build/release/kho}
OUT=$PWD/bench/out/export
PORT=18195
SIZES=${SIZES:-"1000000 5000000"}
mkdir -p "$OUT"
for n in $SIZES; do
  D=$OUT/data-$n
  rm -rf "$D" && $KHO init --data "$D" >/dev/null 2>&1
  python3 - "$OUT/e.csv" "$n" <<'PY'
import sys
n = int(sys.argv[2])
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("ma,ten,so,ty_le,ngay\n")
    for i in range(n):
        f.write(f"{i},Doanh nghiệp số {i} phường Phố Hiến,{i * 7 % 100003},{i % 1000 / 8},2025-{1 + i % 12:02d}-15\n")
PY
  $KHO import "$OUT/e.csv" --dataset ex --data "$D" >/dev/null
  rm -f "$OUT/e.csv"
  KHO_ACCESS_LOG=off KHO_RATE_PUBLIC=off $KHO serve --data "$D" --listen 127.0.0.1:$PORT --threads 2 2>/dev/null &
  KPID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  rss() { awk '/RssAnon/ {print $2}' /proc/$KPID/status; }
  curl -sf "http://127.0.0.1:$PORT/api/v1/datasets/ex/rows?_format=csv" -o /dev/null
  before=$(rss); echo "$before" > "$OUT/peak"
  ( while kill -0 $KPID 2>/dev/null; do r=$(rss 2>/dev/null || echo 0); p=$(cat "$OUT/peak");
      [ "${r:-0}" -gt "$p" ] && echo "$r" > "$OUT/peak"; sleep 0.02; done ) &
  SAMPLER=$!
  t0=$(date +%s.%N)
  bytes=$(curl -sf "http://127.0.0.1:$PORT/api/v1/datasets/ex/rows?_format=csv" -o /dev/null -w '%{size_download}')
  t1=$(date +%s.%N)
  kill $SAMPLER 2>/dev/null || true; wait $SAMPLER 2>/dev/null || true
  peak=$(cat "$OUT/peak")
  printf '%8d rows: %5d MB in %.2f s = %3.0f MB/s; anonymous RSS before %d KiB, peak %d KiB (+%d KiB)\n' "$n" \
    "$((bytes / 1000000))" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$bytes / ($t1 - $t0) / 1000000" | bc -l)" \
    "$before" "$peak" "$((peak - before))"
  kill $KPID; wait $KPID 2>/dev/null || true
  rm -rf "$D"
done
