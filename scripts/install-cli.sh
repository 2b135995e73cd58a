#!/usr/bin/env bash
# Installs a real `aegis` (and `aegis-mcp-server`) command from this checkout, without a registry for the
# @aegis packages: packs them all, installs the tarballs together with plain npm into
# $AEGIS_HOME (default ~/.aegis/cli), and links the binaries into $BIN_DIR (default ~/.local/bin).
# Third-party dependencies still come from your npm registry. better-sqlite3 is native: it needs
# its install script (allowed below) and, without network headers, npm_config_nodedir=/usr.
set -euo pipefail
cd "$(dirname "$0")/.."
home="${AEGIS_HOME:-$HOME/.aegis/cli}"
bin_dir="${BIN_DIR:-$HOME/.local/bin}"
packs="$(mktemp -d)"
trap 'rm -rf "$packs"' EXIT
scripts/pack-all.sh "$packs" >/dev/null
mkdir -p "$home" "$bin_dir"
[ -f "$home/package.json" ] || echo '{ "name": "aegis-cli-install", "private": true, "allowScripts": { "better-sqlite3": true } }' >"$home/package.json"
# Copies, not paths into the temp folder: npm records file: specs relative to the project.
mkdir -p "$home/tarballs" && rm -f "$home"/tarballs/aegis-*.tgz && cp "$packs"/aegis-*.tgz "$home/tarballs/"
(cd "$home" && npm install --no-audit --no-fund ./tarballs/aegis-*.tgz)
ln -sf "$home/node_modules/.bin/aegis" "$bin_dir/aegis"
ln -sf "$home/node_modules/.bin/aegis-mcp-server" "$bin_dir/aegis-mcp-server"
echo "Installed: $bin_dir/aegis ($("$bin_dir/aegis" --version))"
case ":$PATH:" in *":$bin_dir:"*) ;; *) echo "Add $bin_dir to your PATH." ;; esac
