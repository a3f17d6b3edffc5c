#!/usr/bin/env bash
# Cost of the security layer over HTTP (issue "Security and trust": "authorised row query vs
# anonymous open query in the same run: the security layer costs <= 10% of req/s").
#   bash bench/security.sh                      (ROUNDS=4 DURATION=10s by default; KHO=binary)
#
# One kho server (2 event-loop threads, access log off, as in http.sh), rate limits set to
# 100000000/100000000 for every role so that the token bucket is taken on every request but
# never refuses (the value "off" would skip the bucket and hide its cost). wrk -t2 -c64 on the
# same page of 20 rows of the open dataset ho-so-dich-vu-cong:
#   anon     anonymous (security headers, rate limit by address, access decision)
#   key      with 'Authorization: Bearer kho_...' of an analyst's API key (datasets:read):
#            the same plus the key's SHA-256 and its lookup in SQLite, Cache-Control: private
# and, informational, 20 rows of the private, important dataset doi-tuong-tro-cap-xa-hoi, whose
# personal columns are encrypted at rest, every read audited:
#   analyst  an analyst with a grant (no pii): decrypted, then masked, audited
#   admin    an admin key with pii:read: decrypted, unmasked, audited
# The cases run in rounds, the order reversed every other round so that drift of the shared VM
# falls on all of them alike; each round gives ratios to the anonymous figure of that round,
# and the summary their medians. Besides req/s, the server's CPU time per request (from
# /proc/PID/stat, user + system, all its threads, audit writer included) is reported: wrk runs
# on the same 2 cores, so req/s also moves with the client's share of the CPU. A 2 s warm-up of
# each case comes first. Then nginx serves the anonymous page's bytes as a static file, for scale
# (as in http.sh). Any non-2xx response or socket error fails the run. At the end the server is
# stopped and `kho audit verify` checks the audit log that the audited reads filled (one entry
# per answered request at least).
set -euo pipefail
cd "$(dirname "$0")/.."
KHO=${KHO:-$PWD/build/release/kho}
OUT=$PWD/bench/out
ROUNDS=${ROUNDS:-4}
DUR=${DURATION:-10s}
PORT=18183 NPORT=18184
D=$OUT/sdata
mkdir -p "$OUT"
[ -x "$KHO" ] || { echo "security.sh: build kho first (make V=release bin)" >&2; exit 1; }

rm -rf "$D" && $KHO init --demo --data "$D" >/dev/null 2>&1
echo 'a-long-password-123' | $KHO user add bench-analyst --role analyst --data "$D" >/dev/null 2>&1
echo 'a-long-password-123' | $KHO user add bench-admin --role admin --data "$D" >/dev/null 2>&1
ANALYST_KEY=$($KHO key create --user bench-analyst --scopes datasets:read --data "$D" 2>/dev/null)
ADMIN_KEY=$($KHO key create --user bench-admin --scopes datasets:read,pii:read --data "$D" 2>/dev/null)
$KHO grant add doi-tuong-tro-cap-xa-hoi user:bench-analyst --data "$D" >/dev/null 2>&1

OPEN='/api/v1/datasets/ho-so-dich-vu-cong/rows?_limit=20&_offset=1000'
PRIV='/api/v1/datasets/doi-tuong-tro-cap-xa-hoi/rows?_limit=20&_offset=1000'
BASE=http://127.0.0.1:$PORT
declare -A URL=([anon]=$BASE$OPEN [key]=$BASE$OPEN [analyst]=$BASE$PRIV [admin]=$BASE$PRIV)
declare -A AUTH=([anon]="" [key]="Authorization: Bearer $ANALYST_KEY" [analyst]="Authorization: Bearer $ANALYST_KEY"
                 [admin]="Authorization: Bearer $ADMIN_KEY")
CASES=(anon key analyst admin)

R=100000000/100000000
export KHO_RATE_PUBLIC=$R KHO_RATE_ANALYST=$R KHO_RATE_LEADER=$R KHO_RATE_PARTNER=$R KHO_RATE_STEWARD=$R \
    KHO_RATE_ADMIN=$R KHO_ACCESS_LOG=off
$KHO serve --data "$D" --listen 127.0.0.1:$PORT --threads 2 2>"$OUT/security-serve.log" & KPID=$!
www=$(mktemp -d); chmod 755 "$www"
NPID=
cleanup() { kill $KPID $NPID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$www"; }
trap cleanup EXIT
for _ in $(seq 50); do curl -sf "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

fail() { echo "security.sh: FAIL: $*" >&2; exit 1; }
curl_case() { # case -> body on stdout; fails unless 200
    local h=() code
    [ -n "${AUTH[$1]}" ] && h=(-H "${AUTH[$1]}")
    code=$(curl -s "${h[@]}" -o "$www/$1.json" -w '%{http_code}' "${URL[$1]}")
    [ "$code" = 200 ] || fail "$1: HTTP $code: $(head -c 300 "$www/$1.json")"
}
# The responses are what they should be before anything is timed.
for c in "${CASES[@]}"; do curl_case "$c"; done
grep -q '"masked":true' "$www/analyst.json" || fail "the analyst's page of the private dataset is not masked"
grep -q '"masked":false' "$www/admin.json" || fail "the admin's page of the private dataset is masked"
cmp -s "$www/anon.json" "$www/key.json" || fail "the open page differs with and without the key"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE$PRIV")
[ "$code" = 404 ] || fail "an anonymous read of the private dataset gave HTTP $code, not 404"
echo "responses: open page $(wc -c <"$www/anon.json") bytes, private page $(wc -c <"$www/analyst.json") bytes" \
    "masked / $(wc -c <"$www/admin.json") bytes unmasked"

AUDITED=0
declare -A RPS
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)
wrk_case() { # case duration -> sets REQS, RPS_NOW, P99, CPU_US (server CPU per request); fails on any error
    local h=() out c0=0 c1=0
    [ -n "${AUTH[$1]}" ] && h=(-H "${AUTH[$1]}")
    [ "$1" = nginx ] || c0=$(cpu_ticks $KPID)
    out=$(wrk -t2 -c64 -d"$2" --latency "${h[@]}" "${URL[$1]}")
    [ "$1" = nginx ] || c1=$(cpu_ticks $KPID)
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
        echo "$out" >&2
        fail "$1: wrk saw non-2xx responses or socket errors"
    fi
    REQS=$(awk '/requests in/ {print $1}' <<<"$out")
    RPS_NOW=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    P99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    [ "${REQS:-0}" -gt 0 ] || fail "$1: no requests completed"
    CPU_US=$(awk -v t=$((c1 - c0)) -v hz="$TICK" -v n="$REQS" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    case $1 in analyst | admin) AUDITED=$((AUDITED + REQS)) ;; esac
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

echo "== warm-up (2 s each, not counted)"
for c in "${CASES[@]}"; do wrk_case "$c" 2s; done

declare -A ALL RATIOS CPUS
for r in $(seq "$ROUNDS"); do
    order=("${CASES[@]}")
    [ $((r % 2)) = 0 ] && order=(admin analyst key anon)
    echo "== round $r (wrk -t2 -c64 -d$DUR)"
    for c in "${order[@]}"; do
        wrk_case "$c" "$DUR"
        RPS[$c]=$RPS_NOW
        ALL[$c]="${ALL[$c]:-} $RPS_NOW"
        CPUS[$c]="${CPUS[$c]:-} $CPU_US"
        printf '  %-8s %10.0f req/s  p99 %-8s server CPU %6.1f us/request\n' "$c" "$RPS_NOW" "$P99" "$CPU_US"
    done
    line="  ratios to anon:"
    for c in key analyst admin; do
        q=$(ratio "${RPS[$c]}" "${RPS[anon]}")
        RATIOS[$c]="${RATIOS[$c]:-} $q"
        line+=" $c $q"
    done
    echo "$line"
done

echo "== nginx, the open page as a static file (for scale)"
cp "$www/anon.json" "$www/page.json"; chmod 644 "$www/page.json"
cat >"$www/nginx.conf" <<NGX
worker_processes 2; daemon off; pid $www/nginx.pid; error_log /dev/null;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$NPORT; root $www; } }
NGX
nginx -c "$www/nginx.conf" & NPID=$!
sleep 0.5
URL[nginx]=http://127.0.0.1:$NPORT/page.json AUTH[nginx]=""
wrk_case nginx "$DUR"
NGINX=$RPS_NOW
printf '  %-8s %10.0f req/s  p99 %s\n' nginx "$NGINX" "$P99"
kill $NPID; wait $NPID 2>/dev/null || true; NPID=

# Stop the server (the audit writer commits what is queued and signs a last checkpoint).
kill -TERM $KPID; wait $KPID 2>/dev/null || true; KPID=
echo "== audit log after the run"
$KHO audit verify --data "$D" | tail -1
ENTRIES=$(sqlite3 "$D/audit.db" 'SELECT count(*) FROM entries')
CPS=$(sqlite3 "$D/audit.db" 'SELECT count(*) FROM checkpoints')
[ "$ENTRIES" -ge "$AUDITED" ] || fail "the audit log holds $ENTRIES entries for $AUDITED audited requests answered"
echo "  $ENTRIES entries for $AUDITED audited requests answered (and the set-up's), $CPS signed checkpoints"

echo "== summary: medians of $ROUNDS rounds"
ANON=$(median <<<"${ALL[anon]}")
for c in "${CASES[@]}"; do
    printf '  %-8s %10.0f req/s   (rounds:%s)   server CPU %5.1f us/request (rounds:%s)\n' "$c" \
        "$(median <<<"${ALL[$c]}")" "${ALL[$c]}" "$(median <<<"${CPUS[$c]}")" "${CPUS[$c]}"
done
echo "  server CPU per request, key/anon: $(ratio "$(median <<<"${CPUS[key]}")" "$(median <<<"${CPUS[anon]}")")" \
    "(median of each; above 1 means more CPU per request)"
KEYR=$(median <<<"${RATIOS[key]}")
echo "  ratio key/anon (authorised vs anonymous, open page): median $KEYR  (rounds:${RATIOS[key]})" \
    "$(awk -v q="$KEYR" 'BEGIN {printf "-> the security layer costs %.1f%% of req/s: target <= 10%% %s", (1 - q) * 100, (q >= 0.9) ? "met" : "NOT met"}')"
echo "  ratio analyst/anon (private: decrypt, mask, audit): median $(median <<<"${RATIOS[analyst]}")  (rounds:${RATIOS[analyst]})"
echo "  ratio admin/anon (private: decrypt, pii:read, audit): median $(median <<<"${RATIOS[admin]}")  (rounds:${RATIOS[admin]})"
echo "  ratio anon/nginx: $(ratio "$ANON" "$NGINX")"
