#!/usr/bin/env bash
# Fails when src/ calls a banned function (unbounded copies and formatting, and
# conversions that cannot report errors). Use the bounded or checked variants.
set -u
cd "$(dirname "$0")/.."
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok|strncpy|tmpnam|mktemp)\s*\('
hits=$(grep -rnE "$banned" src tests/unit fuzz --include='*.c' --include='*.h' | grep -v 'banned-ok' || true)
if [[ -n $hits ]]; then
  echo "banned functions used (see scripts/check-banned.sh):"
  echo "$hits"
  exit 1
fi
