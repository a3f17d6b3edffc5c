#!/usr/bin/env bash
# All of kho's benchmarks (make bench). Results go to the terminal; bench/RESULTS.md
# records them with the machine and date.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ingest"; bash bench/ingest.sh
echo "== serve start-up and idle memory"; python3 bench/serve_startup.py
echo "== HTTP rows page vs nginx (informational)"; bash bench/http.sh
echo "== security layer: authorised vs anonymous rows page"; bash bench/security.sh
echo "== audit append"; bash bench/audit.sh
echo "== traceability: EPCIS capture, journey page, QR codes"; KHO=${KHO:-$PWD/build/release/kho} bash bench/trace.sh
