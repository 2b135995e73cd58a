#!/usr/bin/env bash
# Package hygiene (issue 13): publint on every published package, and attw on every library.
# The packages are ESM-only on purpose (Node >= 20.18), so attw uses its esm-only profile (CJS
# `require` is not offered). The apps are binaries without an importable API: publint only.
# Run after `pnpm build` (both lint the packed tarball).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/node_modules/.bin"
for dir in packages/* apps/*; do
  (cd "$dir" && "$bin/publint" --strict --level suggestion >/dev/null) || { echo "publint: $dir" >&2; (cd "$dir" && "$bin/publint" --strict --level suggestion) >&2; exit 1; }
done
echo "publint: clean"
for dir in packages/*; do
  (cd "$dir" && "$bin/attw" --pack . --profile esm-only --format ascii >/dev/null) || { echo "attw: $dir" >&2; (cd "$dir" && "$bin/attw" --pack . --profile esm-only) >&2; exit 1; }
done
echo "attw: clean"
