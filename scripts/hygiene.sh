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

# Release tooling: `changeset version` on a scratch copy of HEAD (never this checkout), then a
# publish dry run of every package against an unreachable registry, so nothing can leave.
# (`changeset publish` 2.31 has no --dry-run; it runs `pnpm publish`, which this dry run exercises.)
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
git archive HEAD | tar -x -C "$scratch"
root="$PWD"
(cd "$scratch" && "$root/node_modules/.bin/changeset" version >/dev/null)
if [ -n "$(git ls-files '.changeset/*.md' | grep -v README)" ]; then
  # There were changesets: at least one package version must have moved.
  before="$(cat packages/*/package.json apps/*/package.json | grep '"version"')"
  after="$(cat "$scratch"/packages/*/package.json "$scratch"/apps/*/package.json | grep '"version"')"
  [ "$before" != "$after" ] || { echo 'changeset version bumped nothing' >&2; exit 1; }
fi
echo "changeset version: ok (scratch copy)"
npm_config_registry=http://127.0.0.1:9/ pnpm -r --filter './packages/*' --filter './apps/*' publish --dry-run --no-git-checks >/dev/null 2>&1 ||
  { echo 'pnpm publish --dry-run failed' >&2; exit 1; }
echo "publish --dry-run: ok"
