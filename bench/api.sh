#!/usr/bin/env bash
# The open-data API against nginx (issue "Open data portal and public API").
#   bash bench/api.sh            (DURATION=10s; KHO=binary; ROWS=200000 rows in the test dataset)
#
# One data directory with a dataset of ROWS rows whose column `nhom` has ROWS/100 distinct
# values (100 rows each), imported with `kho import`; the server indexes it in the background
# and the run waits for the index. Then wrk -t2 -c64 with --latency, each case against a
# response of the same bytes served by nginx as a static file (2 workers, access log off):
#   a   nginx, the static file                                       (the practical limit)
#   b1  kho rows: nhom=<v>&_limit=100, v cycling over every distinct value (bench/api_b1.lua)
#   b2  kho rows: one popular query repeated (answered from the response cache)
#   c   kho aggregate: group=nhom&sum=so&avg=ty_le over the whole dataset
#   d   kho CKAN datastore_search with the same filter as b1 (cycling, cache off; then one call
#       repeated, cache on)
# and reports req/s, p99 and each ratio to nginx serving the same number of bytes. Then a
# 1,000,000-row CSV export: MB/s and the server's RSS before, during (sampled every 50 ms) and
# after, against the sqlite3 CLI writing the same table as CSV (`.mode csv`) in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
KHO=${KHO:-$PWD/build/release/kho}
OUT=$PWD/bench/out/api
DUR=${DURATION:-10s}
ROWS=${ROWS:-200000}
PORT=18191 NPORT=18192
mkdir -p "$OUT"
[ -x "$KHO" ] || { echo "api.sh: build kho first (make V=release bin)" >&2; exit 1; }

D=$OUT/data
rm -rf "$D" && $KHO init --data "$D" >/dev/null 2>&1
python3 - "$OUT/b.csv" "$ROWS" <<'PY'
import sys, random
path, n = sys.argv[1], int(sys.argv[2])
random.seed(7)
with open(path, "w", encoding="utf-8") as f:
    f.write("ma,nhom,ten,so,ty_le,ngay\n")
    groups = n // 100
    for i in range(n):
        g = i % groups
        f.write(f"{i},n{g},Hộ kinh doanh số {i} xã Nghĩa Trụ,{random.randint(0, 100000)},"
                f"{random.random() * 100:.2f},2025-{1 + i % 12:02d}-{1 + i % 28:02d}\n")
PY
$KHO import "$OUT/b.csv" --dataset bench-api --title "Bench" --data "$D" >/dev/null
serve() { # extra environment for the server...
  env KHO_ACCESS_LOG=off KHO_RATE_PUBLIC=off "$@" $KHO serve --data "$D" --listen 127.0.0.1:$PORT --threads 2 \
    2>>"$OUT/serve.log" &
  KPID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
}
restart() { kill $KPID; wait $KPID 2>/dev/null || true; serve "$@"; }
: > "$OUT/serve.log"
serve KHO_RESPONSE_CACHE_MB=0
www=$(mktemp -d); chmod 755 "$www"
cleanup() { kill $KPID ${NPID:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$www"; }
trap cleanup EXIT
# wait for the background index on nhom
for _ in $(seq 1 600); do
  n=$(sqlite3 "file:$D/kho.db?mode=ro" "SELECT count(*) FROM sqlite_master WHERE type='index' AND name LIKE 'ix_%_nhom'" 2>/dev/null || echo 0)
  [ "$n" -ge 1 ] && break; sleep 0.2
done
B=http://127.0.0.1:$PORT
B1="/api/v1/datasets/bench-api/rows?nhom=n17&_limit=100"
B2="/api/v1/datasets/bench-api/rows?nhom=n42&_limit=100"
C="/api/v1/datasets/bench-api/aggregate?group=nhom&sum=so&avg=ty_le"
D1="/api/3/action/datastore_search?resource_id=bench-api&filters=%7B%22nhom%22%3A%22n17%22%7D&limit=100"
curl -sf "$B$B1" > "$www/b1.json"; curl -sf "$B$B2" > "$www/b2.json"; curl -sf "$B$C" > "$www/c.json"
HAVE_CKAN=1; curl -sf "$B$D1" > "$www/d.json" || HAVE_CKAN=0
chmod 644 "$www"/*.json
cat > "$www/nginx.conf" <<NGX
worker_processes 2; daemon off; pid $www/nginx.pid; error_log /dev/null;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$NPORT; root $www; } }
NGX
nginx -c "$www/nginx.conf" & NPID=$!
sleep 0.5
NGROUPS=$((ROWS / 100))
cat > "$OUT/b1.lua" <<LUA
local i = 0
request = function()
  i = (i + 7919) % $NGROUPS
  return wrk.format("GET", "/api/v1/datasets/bench-api/rows?nhom=n" .. i .. "&_limit=100")
end
LUA
cat > "$OUT/d.lua" <<LUA
local i = 0
request = function()
  i = (i + 7919) % $NGROUPS
  return wrk.format("GET", "/api/3/action/datastore_search?resource_id=bench-api&limit=100&filters=%7B%22nhom%22%3A%22n" .. i .. "%22%7D")
end
LUA
run() { # label, wrk args...
  local label=$1; shift
  local out; out=$(wrk -t2 -c64 -d"$DUR" --latency "$@")
  local rps p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  [ -n "$non2xx" ] && { echo "$label: $non2xx non-2xx responses" >&2; exit 1; }
  printf '%s %s %s\n' "$label" "$rps" "$p99"
}
declare -A RPS P99
case_vs_nginx() { # name, file for nginx, kho wrk args...
  local name=$1 file=$2; shift 2
  read -r _ n_rps n_p99 < <(run "nginx-$name" "http://127.0.0.1:$NPORT/$file")
  read -r _ k_rps k_p99 < <(run "kho-$name" "$@")
  local bytes; bytes=$(wc -c < "$www/$file")
  printf '%-4s %7s bytes | nginx %9.0f req/s p99 %-8s | kho %9.0f req/s p99 %-8s | ratio %.3f\n' \
    "$name" "$bytes" "$n_rps" "$n_p99" "$k_rps" "$k_p99" "$(echo "$k_rps / $n_rps" | bc -l)"
}
echo "dataset: $ROWS rows, $NGROUPS distinct values of nhom; wrk -t2 -c64 -d$DUR on the same 2 cores"
# b1 and d measure the query itself: the response cache is off (response_cache_mb=0)
echo "-- response cache off"
wrk -t2 -c64 -d2s -s "$OUT/b1.lua" "$B" >/dev/null   # warm-up, not counted
case_vs_nginx b1 b1.json -s "$OUT/b1.lua" "$B"
if [ $HAVE_CKAN = 1 ]; then case_vs_nginx d d.json -s "$OUT/d.lua" "$B"; else echo "d    CKAN datastore_search not available in this build: skipped"; fi
case_vs_nginx c c.json "$B$C"
# with the cache on (the default): a popular query, the aggregate, and b1's cycle again
echo "-- response cache on (default, 64 MiB per event loop)"
restart
for u in "$B$B2" "$B$C"; do wrk -t2 -c64 -d2s "$u" >/dev/null; done   # warm-up, not counted
wrk -t2 -c64 -d2s -s "$OUT/b1.lua" "$B" >/dev/null
case_vs_nginx b2 b2.json "$B$B2"
case_vs_nginx c c.json "$B$C"
if [ $HAVE_CKAN = 1 ]; then wrk -t2 -c64 -d2s "$B$D1" >/dev/null; case_vs_nginx d d.json "$B$D1"; fi
case_vs_nginx b1 b1.json -s "$OUT/b1.lua" "$B"

# ---- export: 1,000,000 rows as CSV ----------------------------------------------------------
kill $KPID; wait $KPID 2>/dev/null || true
python3 - "$OUT/e.csv" <<'PY'
import sys
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("ma,ten,so,ty_le,ngay\n")
    for i in range(1_000_000):
        f.write(f"{i},Doanh nghiệp số {i} phường Phố Hiến,{i * 7 % 100003},{i % 1000 / 8},2025-{1 + i % 12:02d}-15\n")
PY
$KHO import "$OUT/e.csv" --dataset bench-export --data "$D" >/dev/null
serve
# anonymous memory (heap, stacks): SQLite's memory-mapped database pages count in VmRSS as
# file-backed pages the kernel can drop at will, so they are reported apart
rss() { awk '/RssAnon/ {print $2}' /proc/$KPID/status; }
rssfile() { awk '/RssFile/ {print $2}' /proc/$KPID/status; }
curl -sf "$B/api/v1/datasets/bench-export/rows?_limit=1" >/dev/null
before=$(rss)
peakf=$OUT/peak; echo "$before" > "$peakf"
( while kill -0 $KPID 2>/dev/null; do r=$(rss 2>/dev/null || echo 0); p=$(cat "$peakf"); [ "${r:-0}" -gt "$p" ] && echo "$r" > "$peakf"; sleep 0.05; done ) &
SAMPLER=$!
t0=$(date +%s.%N)
bytes=$(curl -sf "$B/api/v1/datasets/bench-export/rows?_format=csv" -o /dev/null -w '%{size_download}')
t1=$(date +%s.%N)
kill $SAMPLER 2>/dev/null || true
peak=$(cat "$peakf"); after=$(rss)
table=$(sqlite3 "file:$D/kho.db?mode=ro" "SELECT v.table_name FROM versions v JOIN datasets d ON d.id=v.dataset_id WHERE d.slug='bench-export'")
s0=$(date +%s.%N)
sbytes=$(sqlite3 -csv -header "file:$D/kho.db?mode=ro" "SELECT ma,ten,so,ty_le,ngay FROM \"$table\" ORDER BY _row" | wc -c)
s1=$(date +%s.%N)
kmb=$(echo "$bytes / ($t1 - $t0) / 1000000" | bc -l); smb=$(echo "$sbytes / ($s1 - $s0) / 1000000" | bc -l)
printf 'export: kho %d bytes in %.2f s = %.0f MB/s | sqlite3 -csv %d bytes in %.2f s = %.0f MB/s | ratio %.2f\n' \
  "$bytes" "$(echo "$t1 - $t0" | bc -l)" "$kmb" "$sbytes" "$(echo "$s1 - $s0" | bc -l)" "$smb" "$(echo "$kmb / $smb" | bc -l)"
printf 'export: server anonymous RSS before %d KiB, peak during %d KiB (+%d KiB), after %d KiB (file-backed: %d KiB)\n' \
  "$before" "$peak" "$((peak - before))" "$after" "$(rssfile)"
