#!/usr/bin/env bash
# HTTP baseline (informational for now; the open-data issue sets targets): wrk at 64
# connections for 10 s against (a) nginx serving a page of rows saved as a static file,
# and (b) kho serving the same page from the database, same response bytes.
#   bash bench/http.sh
set -euo pipefail
cd "$(dirname "$0")/.."
KHO=$PWD/build/release/kho
OUT=$PWD/bench/out
mkdir -p "$OUT"
rm -rf "$OUT/hdata" && $KHO init --demo --data "$OUT/hdata" >/dev/null 2>&1
PATH_Q='/api/v1/datasets/ho-so-dich-vu-cong/rows?_limit=20&_offset=1000'
KHO_ACCESS_LOG=off $KHO serve --data "$OUT/hdata" --listen 127.0.0.1:18181 --threads 2 2>/dev/null & KPID=$!
www=$(mktemp -d); chmod 755 "$www"
sleep 0.5
curl -s "http://127.0.0.1:18181$PATH_Q" > "$www/page.json"; chmod 644 "$www/page.json"
cat > "$www/nginx.conf" <<NGX
worker_processes 2; daemon off; pid $www/nginx.pid; error_log /dev/null;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:18182; root $www; } }
NGX
nginx -c "$www/nginx.conf" & NPID=$!
sleep 0.5
echo "response: $(wc -c < "$www/page.json") bytes"
echo "== nginx static file"; wrk -t2 -c64 -d10s --latency http://127.0.0.1:18182/page.json | grep -E "Requests/sec|99%"
echo "== kho rows page (access log off, like nginx)"
wrk -t2 -c64 -d10s --latency "http://127.0.0.1:18181$PATH_Q" | grep -E "Requests/sec|99%"
kill $KPID $NPID; wait 2>/dev/null || true
