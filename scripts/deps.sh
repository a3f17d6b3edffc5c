#!/usr/bin/env bash
# Installs the Debian packages kho needs to build, run and test, when they are missing.
# Usage: scripts/deps.sh [build|test|bench]   (each level includes the ones before it)
# Uses apt-get, through sudo when not root. Prints nothing when everything is present.
set -euo pipefail

level=${1:-build}
# nodejs and npm: the build embeds the portal's assets (scripts/embed.mjs) and the chart library
# from npm (package-lock.json); chromium and a font with Vietnamese letters: the browser tests;
# python3-rdflib: the DCAT test reads the JSON-LD catalogue as RDF; libcurl: the assistant's optional
# language model (apps/assistant/llm.c); libqrencode and libpng: the traceability QR codes;
# zbar-tools: the QR test decodes them.
pkgs=(make gcc pkg-config libc6-dev
      libh2o-dev libh2o-evloop-dev libssl-dev zlib1g-dev
      libsqlite3-dev libjansson-dev libcsv-dev libsodium-dev libutf8proc-dev libcurl4-openssl-dev
      libqrencode-dev libpng-dev
      nodejs npm)
case "$level" in
  build) ;;
  test)  pkgs+=(clang libclang-rt-14-dev libcmocka-dev python3 python3-nacl python3-rdflib sqlite3 procps openssl
               chromium fonts-dejavu-core zbar-tools) ;;
  bench) pkgs+=(clang libclang-rt-14-dev libcmocka-dev python3 python3-nacl sqlite3 procps
                wrk nginx-light hyperfine time) ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  # a Node.js build that ships its own npm (such as NodeSource's) conflicts with Debian's npm package
  [[ $p == npm ]] && command -v npm >/dev/null && continue
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "kho: installing missing Debian packages: ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "kho: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package index only when installing fails with the cached one.
if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
