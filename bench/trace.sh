#!/usr/bin/env bash
# Traceability (issue 7): EPCIS capture, the journey page, QR codes.
#   bash bench/trace.sh     (DURATION=10s; KHO=binary; DATA=/tmp/bench-trace; DOCS=300;
#                            CAPTURE_ONLY=1 stops after the capture part)
#
# Targets (issue 7): capture >= 20,000 events/s in batches of 100 (the transparency log included);
# journey page p99 < 5 ms at 64 connections; QR PNG >= 5,000/s.
#
# A fresh data directory with the demo (`kho init --demo`), `kho serve --threads 2` on 127.0.0.1
# with the access log and the public rate limit off, everything on the same 2 cores.
#
# 1. Capture. DOCS documents of 100 new events each (ObjectEvents with an SGTIN, a lot class, a
#    sensor reading, no eventID: kho computes the hash ID of each) are POSTed to
#    /api/v1/trace/capture by 4 client threads over keep-alive connections (Python; the bodies are
#    built before the clock starts). Reported: events/s over the whole run, and the same events
#    written by the sqlite3 CLI as rows (id, JSON body) into a table with a unique index, in
#    transactions of 100, in the same run: the ratio is kho / sqlite3. `kho trace verify` must say
#    the ledger is intact afterwards.
# 2. Journey page: wrk -t2 -c64 --latency on the demo's showcase lot, against nginx serving the
#    same page as a static file; req/s, p50, p99 and the ratio. Once with the response cache
#    (default) and once with KHO_RESPONSE_CACHE_MB=0 (the page rendered on every request).
# 3. QR PNG: wrk on /api/v1/trace/qr?format=png cycling over 1,000 lots (each encoded and
#    compressed on every request: QR images are not cached by kho), against nginx serving one of
#    those PNGs.
# 4. The journey page again with the server on a core of its own and wrk on the other (taskset).
set -euo pipefail
cd "$(dirname "$0")/.."
KHO=${KHO:-$PWD/build/bench/kho}
OUT=$PWD/bench/out/trace
DUR=${DURATION:-10s}
D=${DATA:-/tmp/bench-trace}
NDOCS=${DOCS:-300}
mkdir -p "$OUT"
[ -x "$KHO" ] || { echo "trace.sh: build kho first (make V=release B=build/bench bin)" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port) NPORT=$(free_port)
while [ "$NPORT" = "$PORT" ]; do NPORT=$(free_port); done

rm -rf "$D" && $KHO init --demo --data "$D" >/dev/null 2>&1
KEY=$(printf 'bench-trace-pass-2026\n' | $KHO user add bench-trace --role steward --org bench --data "$D" >/dev/null 2>&1 &&
      $KHO key create --user bench-trace --scopes trace:read,trace:write --data "$D" 2>/dev/null)
: > "$OUT/serve.log"
KPID= NPID=
www=$(mktemp -d); chmod 755 "$www"
cleanup() { kill $KPID $NPID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$www"; }
trap cleanup EXIT
PIN=() THREADS=(--threads 2)
serve() { # extra environment for the server...
  env KHO_ACCESS_LOG=off KHO_RATE_PUBLIC=off KHO_RATE_STEWARD=off "$@" "${PIN[@]}" $KHO serve --data "$D" \
    --listen 127.0.0.1:$PORT "${THREADS[@]}" 2>>"$OUT/serve.log" &
  KPID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "trace.sh: kho serve did not start" >&2; exit 1; }
}
stop() { kill $KPID 2>/dev/null || true; wait $KPID 2>/dev/null || true; KPID=; }
B=http://127.0.0.1:$PORT
serve

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
# ---- 1. capture ----------------------------------------------------------------------------------
python3 - "$PORT" "$KEY" "$NDOCS" "$OUT" <<'PY'
import http.client, json, os, subprocess, sys, threading, time
port, key, ndocs, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]

def check_digit(d):
    s = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(d)))
    return str((10 - s % 10) % 10)

ORDER = os.environ.get("TIMES", "ordered")

def event_time(n):
    if ORDER == "scattered":  # every event of a document on another day and hour: the time index written all over
        return f"2025-08-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:{(n // 60) % 60:02d}+07:00"
    # as events are captured when they happen: each a few seconds after the one before
    t = 1754006400 + 5 * n  # 2025-08-01T00:00:00Z
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))

def event(n):
    return {"type": "ObjectEvent", "eventTime": event_time(n),
            "eventTimeZoneOffset": "+07:00", "action": "OBSERVE", "bizStep": "storing", "disposition": "active",
            "epcList": [f"urn:epc:id:sgtin:8930001.000011.B{n}"],
            "quantityList": [{"epcClass": f"urn:epc:class:lgtin:8930001.000011.BL{n // 100}", "quantity": 12.5, "uom": "KGM"}],
            "readPoint": {"id": "urn:epc:id:sgln:8930001.00041.0"}, "bizLocation": {"id": "urn:epc:id:sgln:8930001.00041.0"},
            "sensorElementList": [{"sensorReport": [{"type": "gs1:Temperature", "value": 4.0 + (n % 30) / 10, "uom": "CEL"}]}]}

docs, rows = [], []
for d in range(ndocs):
    evs = [event(d * 100 + i) for i in range(100)]
    docs.append(json.dumps({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
                            "schemaVersion": "2.0", "creationDate": "2025-08-01T00:00:00Z",
                            "epcisBody": {"eventList": evs}}).encode())
    rows.append([json.dumps(e, separators=(",", ":"), sort_keys=True) for e in evs])
nev = ndocs * 100
lock, nxt, errors = threading.Lock(), [0], []

def worker():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while True:
        with lock:
            i = nxt[0]; nxt[0] += 1
        if i >= len(docs):
            return
        c.request("POST", "/api/v1/trace/capture", body=docs[i],
                  headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
        r = c.getresponse(); body = r.read()
        if r.status != 201 or json.loads(body)["captured"] != 100:
            errors.append((r.status, body[:200]))

t0 = time.perf_counter()
ts = [threading.Thread(target=worker) for _ in range(int(os.environ.get("CLIENTS", "4")))]
for t in ts: t.start()
for t in ts: t.join()
kho_s = time.perf_counter() - t0
if errors:
    sys.exit(f"capture failed: {errors[:3]}")
# the baseline: the sqlite3 CLI writes the same events as JSON rows, in transactions of 100
db = os.path.join(out, "baseline.db")
if os.path.exists(db): os.remove(db)
sql = ["PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;",
       "CREATE TABLE ev(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);"]
for d, batch in enumerate(rows):
    sql.append("BEGIN;")
    for i, b in enumerate(batch):
        sql.append("INSERT INTO ev(id, body) VALUES ('e%d', '%s');" % (d * 100 + i, b.replace("'", "''")))
    sql.append("COMMIT;")
script = os.path.join(out, "baseline.sql")
with open(script, "w") as f: f.write("\n".join(sql))
t0 = time.perf_counter()
subprocess.run(["sqlite3", db, ".read " + script], check=True, stdout=subprocess.DEVNULL)
sq_s = time.perf_counter() - t0
print(f"capture ({ORDER} event times): {nev} events in {ndocs} documents of 100, {len(ts)} client threads: kho {nev / kho_s:,.0f} events/s "
      f"({kho_s:.2f} s); sqlite3 CLI same rows in transactions of 100: {nev / sq_s:,.0f} rows/s ({sq_s:.2f} s); "
      f"ratio {sq_s / kho_s:.3f}")
PY
stop
$KHO trace verify --data "$D" | sed 's/^/  /'
[ -n "${CAPTURE_ONLY:-}" ] && exit 0
serve

# ---- 2. journey page, 3. QR ----------------------------------------------------------------------
SHOW=$($KHO init --demo --data "$D" 2>/dev/null | sed -n "s|.*a lot's journey: http://[^/]*||p")
curl -sf "$B$SHOW" -o "$www/journey.html"
python3 - "$OUT" <<'PY'
import sys
out = sys.argv[1]
with open(f"{out}/qr.lua", "w") as f:
    f.write("i = 0\nrequest = function()\n  i = i % 1000 + 1\n"
            "  return wrk.format(\"GET\", \"/api/v1/trace/qr?gtin=08930001000117&format=png&size=4&lot=PH-2025-\" .. i)\nend\n")
PY
curl -sf "$B/api/v1/trace/qr?gtin=08930001000117&format=png&size=4&lot=PH-2025-500" -o "$www/qr.png"
chmod 644 "$www"/*
nginx_start() { # workers
  cat > "$www/nginx.conf" <<NGX
worker_processes $1; daemon off; pid $www/nginx.pid; error_log /dev/null;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$NPORT; root $www; } }
NGX
  "${PIN[@]}" nginx -c "$www/nginx.conf" & NPID=$!
  sleep 0.5
}
nginx_start 2
WRK=(wrk -t2)
run() { # label, wrk args...
  local label=$1; shift
  local out; out=$("${WRK[@]}" "$@" --latency)
  local rps p50 p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  [ -n "$non2xx" ] && { echo "$label: $non2xx non-2xx responses" >&2; exit 1; }
  printf '%s %s %s %s\n' "$label" "$rps" "$p50" "$p99"
}
row() { # label nginx-url kho-url [wrk args]
  local label=$1 nurl=$2 kurl=$3; shift 3
  "${WRK[@]}" -c64 -d2s "$@" "$kurl" >/dev/null
  read -r _ n_rps n_p50 n_p99 < <(run nginx -c64 -d"$DUR" "$nurl")
  read -r _ k_rps k_p50 k_p99 < <(run kho -c64 -d"$DUR" "$@" "$kurl")
  printf '%-22s | nginx %8.0f req/s p50 %-8s p99 %-8s | kho %8.0f req/s p50 %-8s p99 %-8s | ratio %.3f\n' \
    "$label" "$n_rps" "$n_p50" "$n_p99" "$k_rps" "$k_p50" "$k_p99" "$(echo "$k_rps / $n_rps" | bc -l)"
}
echo "wrk -t2 -c64 -d$DUR --latency on the same 2 cores as kho serve --threads 2 ($SHOW: $(wc -c < "$www/journey.html") bytes; QR PNG $(wc -c < "$www/qr.png") bytes)"
row "journey, cache on" "http://127.0.0.1:$NPORT/journey.html" "$B$SHOW"
row "QR PNG (size 4)" "http://127.0.0.1:$NPORT/qr.png" "$B" -s "$OUT/qr.lua"
stop
serve KHO_RESPONSE_CACHE_MB=0
row "journey, cache off" "http://127.0.0.1:$NPORT/journey.html" "$B$SHOW"
stop

# ---- 4. the journey page with the server on a core of its own -----------------------------------
# wrk shares the cores with the server above, so a server thread that is ready waits behind a wrk
# thread for a time slice, and those waits make most of the p99. Here each server is pinned to core
# 1 (kho serve without --threads: one event loop per core it may use; nginx with one worker) and
# wrk -t1 to core 0.
if [ "$(nproc)" -ge 2 ]; then
  kill $NPID 2>/dev/null || true; wait $NPID 2>/dev/null || true
  PIN=(taskset -c 1) THREADS=()
  nginx_start 1
  serve
  WRK=(taskset -c 0 wrk -t1)
  echo "server pinned to core 1 (kho: one event loop; nginx: one worker), wrk -t1 -c64 pinned to core 0"
  row "journey, cache on" "http://127.0.0.1:$NPORT/journey.html" "$B$SHOW"
fi
