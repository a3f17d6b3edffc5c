#!/usr/bin/env bash
# Indicators (issue 5): values, rankings and the dashboard over HTTP against nginx, and the
# whole-province rebuild against a plain aggregation in the sqlite3 CLI.
#   bash bench/indicators.sh      (DURATION=10s; KHO=binary; DATA=/tmp/bench-ind; RUNS=5)
#
# Targets (issue 5): values and ranking queries p99 < 5 ms at 64 connections; the whole-province
# conversion of 11 years x 15 indicators recomputed in < 1 s.
#
# A fresh data directory with the demo data (`kho init --demo`: 43k indicator reports, 19
# indicators, 2015-2025), `kho serve --threads 2` on 127.0.0.1 (access log and public rate limit
# off, as in api.sh). wrk -t2 -c64 --latency on the same 2 cores, each case right after nginx
# (2 workers, access log off) serving, as a static file, the bytes of a typical answer of that
# case (the answer of median size among all the answers the case cycles over):
#   v1  GET /api/v1/indicators/{code}/values?unit=CODE      one commune's series, cycling over
#       the 104 communes of province 33 x every commune-level indicator (bench/out/indicators/v1.lua)
#   v2  GET /api/v1/indicators/{code}/values?level=commune&unit=33&period=P&rank=desc&limit=10
#       rankings, cycling over every commune-level indicator x periods 2015-2025
#   v3  GET /api/v1/dashboard?unit=CODE                     cycling over the province and its communes
# Every answer of every cycle is fetched once first (it must be a 200); any non-2xx under wrk
# fails the run. Reported: req/s, p50, p99 and the ratio of req/s to nginx's in the same run.
# Then, the server stopped, `kho indicators rebuild` RUNS times (the time it prints, and the wall
# time) against `sqlite3 kho.db "SELECT indicator, period, sum(value) FROM <table> GROUP BY 1,2"`
# over the same reports (the version table of chi-so-kinh-te-xa-hoi): min and median, and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
KHO=${KHO:-$PWD/build/bench/kho}
OUT=$PWD/bench/out/indicators
DUR=${DURATION:-10s}
D=${DATA:-/tmp/bench-ind}
RUNS=${RUNS:-5}
mkdir -p "$OUT"
[ -x "$KHO" ] || { echo "indicators.sh: build kho first (make V=release B=build/bench bin)" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port) NPORT=$(free_port)
while [ "$NPORT" = "$PORT" ]; do NPORT=$(free_port); done

rm -rf "$D" && $KHO init --demo --data "$D" >/dev/null 2>&1
: > "$OUT/serve.log"
env KHO_ACCESS_LOG=off KHO_RATE_PUBLIC=off $KHO serve --data "$D" --listen 127.0.0.1:$PORT --threads 2 \
  2>>"$OUT/serve.log" &
KPID=$!
www=$(mktemp -d); chmod 755 "$www"
cleanup() { kill $KPID ${NPID:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$www"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
B=http://127.0.0.1:$PORT

# The paths of each cycle, a Lua script per case, and the typical answer of each for nginx.
python3 - "$B" "$OUT" "$www" <<'PY'
import json, sys, urllib.request
base, out, www = sys.argv[1:4]
get = lambda p: urllib.request.urlopen(base + p, timeout=30).read()
communes = [u["code"] for u in json.loads(get("/api/v1/units?province=33&level=commune&limit=200"))["units"]]
inds = [i["code"] for i in json.loads(get("/api/v1/indicators"))["indicators"] if i["level"] == "commune"]
print(f"{len(communes)} communes in province 33, {len(inds)} commune-level indicators")
cases = {
    # commune-major order: consecutive requests differ in commune and indicator
    "v1": [f"/api/v1/indicators/{i}/values?unit={c}" for c in communes for i in inds],
    "v2": [f"/api/v1/indicators/{i}/values?level=commune&unit=33&period={p}&rank=desc&limit=10"
           for p in range(2015, 2026) for i in inds],
    "v3": ["/api/v1/dashboard?unit=33"] + [f"/api/v1/dashboard?unit={c}" for c in communes],
}
for name, paths in cases.items():
    bodies = [(len(b), p, b) for p in paths for b in [get(p)]]   # raises on any non-200
    if name == "v1":
        assert all(json.loads(b)["count"] > 0 for _, _, b in bodies), "v1: an empty series"
    bodies.sort(key=lambda t: t[0])
    n, p, b = bodies[len(bodies) // 2]
    open(f"{www}/{name}.json", "wb").write(b)
    with open(f"{out}/{name}.lua", "w") as f:
        f.write("local paths = {\n" + "".join(f'  "{q}",\n' for q in paths) + "}\n")
        f.write("local n, i = #paths, 0\n"
                "request = function()\n  i = i % n + 1\n  return wrk.format(\"GET\", paths[i])\nend\n")
    print(f"{name}: {len(paths)} paths; answers {bodies[0][0]}-{bodies[-1][0]} bytes, nginx serves the median {n} bytes ({p})")
PY
chmod 644 "$www"/*.json
cat > "$www/nginx.conf" <<NGX
worker_processes 2; daemon off; pid $www/nginx.pid; error_log /dev/null;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$NPORT; root $www; } }
NGX
nginx -c "$www/nginx.conf" & NPID=$!
sleep 0.5

run() { # label, wrk args...
  local label=$1; shift
  local out; out=$(wrk -t2 -c64 -d"$DUR" --latency "$@")
  local rps p50 p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  [ -n "$non2xx" ] && { echo "$label: $non2xx non-2xx responses" >&2; exit 1; }
  printf '%s %s %s %s\n' "$label" "$rps" "$p50" "$p99"
}
case_vs_nginx() { # name, kho wrk args...
  local name=$1; shift
  read -r _ n_rps n_p50 n_p99 < <(run "nginx-$name" "http://127.0.0.1:$NPORT/$name.json")
  read -r _ k_rps k_p50 k_p99 < <(run "kho-$name" "$@")
  local bytes; bytes=$(wc -c < "$www/$name.json")
  printf '%-3s %6s bytes | nginx %8.0f req/s p50 %-8s p99 %-8s | kho %8.0f req/s p50 %-8s p99 %-8s | ratio %.3f\n' \
    "$name" "$bytes" "$n_rps" "$n_p50" "$n_p99" "$k_rps" "$k_p50" "$k_p99" "$(echo "$k_rps / $n_rps" | bc -l)"
}
echo "wrk -t2 -c64 -d$DUR --latency on the same 2 cores; kho serve --threads 2; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in v1 v2 v3; do
  wrk -t2 -c64 -d2s -s "$OUT/$c.lua" "$B" >/dev/null   # warm-up, not counted
  case_vs_nginx $c -s "$OUT/$c.lua" "$B"
done


# ---- rebuild: the whole province, every indicator and year, the server stopped ---------------
kill $KPID; wait $KPID 2>/dev/null || true
table=$(sqlite3 "file:$D/kho.db?mode=ro" "SELECT v.table_name FROM versions v JOIN datasets d ON d.id=v.dataset_id WHERE d.slug='chi-so-kinh-te-xa-hoi' ORDER BY v.id DESC LIMIT 1")
reports=$(sqlite3 "file:$D/kho.db?mode=ro" "SELECT count(*) FROM \"$table\"")
now() { date +%s.%N; }
KT=() KW=() ST=() SW=()
for _ in $(seq 1 "$RUNS"); do
  t0=$(now); kline=$($KHO indicators rebuild --data "$D"); t1=$(now)
  KT+=("$(echo "$kline" | sed -n 's/.* in \([0-9.]*\) s$/\1/p')"); KW+=("$(echo "$t1 - $t0" | bc -l)")
  t0=$(now)
  line=$(printf '.timer on\nSELECT indicator, period, sum(value) FROM "%s" GROUP BY 1,2;\n' "$table" \
         | sqlite3 "$D/kho.db" | grep '^Run Time')
  t1=$(now)
  ST+=("$(echo "$line" | awk '{print $4}')"); SW+=("$(echo "$t1 - $t0" | bc -l)")
done
stat() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.4f %.4f\n", a[1], (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
read -r kt_min kt_med < <(stat "${KT[@]}"); read -r kw_min kw_med < <(stat "${KW[@]}")
read -r st_min st_med < <(stat "${ST[@]}"); read -r sw_min sw_med < <(stat "${SW[@]}")
echo "rebuild, $RUNS runs, $reports reports in $table (${kline#kho: })"
printf 'rebuild: kho (printed) min %.3f s median %.3f s | wall min %.3f median %.3f s\n' "$kt_min" "$kt_med" "$kw_min" "$kw_med"
printf 'rebuild: sqlite3 GROUP BY (.timer real) min %.4f s median %.4f s | wall min %.4f median %.4f s\n' \
  "$st_min" "$st_med" "$sw_min" "$sw_med"
printf 'rebuild: ratio kho / sqlite3, medians: printed/.timer %.1f, wall/wall %.1f\n' \
  "$(echo "$kt_med / $st_med" | bc -l)" "$(echo "$kw_med / $sw_med" | bc -l)"
