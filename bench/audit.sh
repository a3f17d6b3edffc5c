#!/usr/bin/env bash
# Audit append rate (issue "Security and trust": "audit append >= 50,000 entries/s with a
# checkpoint every 1,000"): bench/audit_append.c, then `kho audit verify` on the two audit logs
# it wrote through the real kho_audit API, to show that they are sound.
#   make V=release bin bench-bin && bash bench/audit.sh      (ENTRIES=200000 RATE=50000)
set -euo pipefail
cd "$(dirname "$0")/.."
KHO=${KHO:-$PWD/build/release/kho}
BIN=$PWD/build/release/bench/audit_append
OUT=$PWD/bench/out/audit
for b in "$KHO" "$BIN"; do
    [ -x "$b" ] || { echo "audit.sh: build first (make V=release bin bench-bin)" >&2; exit 1; }
done
rm -rf "$OUT" && mkdir -p "$OUT"
"$BIN" --entries "${ENTRIES:-200000}" --rate "${RATE:-50000}" --dir "$OUT"
for log in audit-flood audit-paced; do
    printf '%s: ' "$log"
    "$KHO" audit verify --data "$OUT/$log" | tail -1
done
