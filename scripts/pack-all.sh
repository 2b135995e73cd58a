#!/usr/bin/env bash
# Packs every published package (packages/*, apps/*) into the folder given as $1, built first.
# pnpm rewrites each `workspace:*` to the exact version, which exists on no registry, so the
# tarballs must be installed together (scripts/install-cli.sh, scripts/packed-test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/pack-all.sh <folder>}"
mkdir -p "$out"
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
pnpm build >/dev/null
pnpm --filter './packages/*' --filter './apps/*' -r pack --pack-destination "$out" >/dev/null
ls "$out"/aegis-*.tgz
