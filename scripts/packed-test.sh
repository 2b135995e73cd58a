#!/usr/bin/env bash
# The packed-tarball test (issue 13): pack every package, install the tarballs into an empty
# project with plain npm (no workspace), then run what a user runs: the packed CLI's
# `aegis --version` and `aegis init`, and the packed MCP server answering MCP `initialize` over
# stdio, started as a user starts it: `npx --package @aegis/mcp-server aegis-mcp-server` (and
# `npx @aegis/mcp-server`, what `aegis mcp config` prints for a registry install, runs the same
# single bin). Fails loudly; prints its time.
# `npx --package <mcp-server tgz>` alone cannot work before publishing: the tarball names its
# @aegis siblings by exact version and npx would fetch those from the registry (404). So npx runs
# with --no-install in the project that holds all the tarballs, where the name resolves locally.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
scripts/pack-all.sh "$work/tarballs" >/dev/null
mkdir -p "$work/project" "$work/home"
cd "$work/project"
echo '{ "name": "packed-test", "private": true, "type": "module", "allowScripts": { "better-sqlite3": true } }' >package.json
npm install --no-audit --no-fund --prefer-offline --loglevel=error ../tarballs/aegis-*.tgz >/dev/null
export HOME="$work/home"
version="$(npx --no-install aegis --version)"
case "$version" in "@aegis/cli/"*) echo "aegis --version: $version" ;; *) echo "unexpected version: $version" >&2; exit 1 ;; esac
npx --no-install aegis init --write-secrets --json >/dev/null
test -f aegis.config.yaml || { echo 'aegis init wrote no aegis.config.yaml' >&2; exit 1; }
echo 'aegis init: ok'
# The CLI is a bundle that finds the libraries' own files where npm installed them (migrations,
# the ledger writer thread's program): a vault read and a gate start use both.
test "$(npx --no-install aegis vault list --json)" = '[]' || { echo 'aegis vault list: unexpected output' >&2; exit 1; }
echo 'aegis vault list: ok'
node --input-type=module -e '
import { spawn } from "node:child_process"
const gate = spawn(process.execPath, ["node_modules/@aegis/cli/bin/run.js", "gate", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] })
let out = ""
let stopping = false
const timer = setTimeout(() => { console.error(`the packed gate did not start in 30 s: ${out}`); gate.kill(); process.exit(1) }, 30_000)
const onData = (d) => {
  out += d
  if (stopping || !out.includes("listening on")) return
  stopping = true
  clearTimeout(timer)
  gate.once("exit", (code) => {
    if (code !== 0) { console.error(`the packed gate exited with ${code}: ${out}`); process.exit(1) }
    console.log("aegis gate: listening, stopped cleanly")
  })
  gate.kill("SIGINT")
}
gate.stdout.on("data", onData)
gate.stderr.on("data", onData)
'
# The gate's ledger rows are committed by its writer thread (the installed @aegis/ledger's file).
npx --no-install aegis ledger show --json | grep -q '"event": "gate_stop"' || { echo 'the packed gate left no gate_stop row in the ledger' >&2; exit 1; }
echo 'aegis ledger show: the gate wrote its rows'
token="$(npx --no-install aegis agent add --name packed --json | node -e 'let s="";process.stdin.on("data",(d)=>{s+=d}).on("end",()=>process.stdout.write(JSON.parse(s).token))')"
AEGIS_CONFIG="$PWD/aegis.config.yaml" AEGIS_AGENT_TOKEN="$token" node --input-type=module -e '
import { spawn } from "node:child_process"
const child = spawn("npx", ["--no-install", "--package", "@aegis/mcp-server", "aegis-mcp-server"], { stdio: ["pipe", "pipe", "inherit"] })
const timer = setTimeout(() => { console.error("no initialize answer in 30 s"); child.kill(); process.exit(1) }, 30_000)
let out = ""
child.stdout.on("data", (d) => {
  out += d
  const line = out.split("\n").find((l) => l.trim() !== "")
  if (!out.includes("\n")) return
  const msg = JSON.parse(line)
  clearTimeout(timer)
  child.kill()
  if (msg.id !== 1 || !msg.result?.serverInfo?.name) { console.error("bad answer:", line); process.exit(1) }
  console.log(`npx --package @aegis/mcp-server aegis-mcp-server: initialize answered by ${msg.result.serverInfo.name} ${msg.result.serverInfo.version}`)
  process.exit(0)
})
child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "packed-test", version: "0" } } }) + "\n")
'
usage="$(npx --no-install @aegis/mcp-server --help)"
case "$usage" in "Usage: aegis-mcp-server "*) echo 'npx @aegis/mcp-server --help: ok' ;; *) echo "npx @aegis/mcp-server --help printed: $usage" >&2; exit 1 ;; esac

# An embedder's project: only @aegis/proxy and the @aegis packages it depends on, no build scripts
# allowed, and the embed-gate example (createGate, in-memory credentials, a local HTTPS upstream)
# must run. No better-sqlite3 may be installed: proxy needs no native module.
mkdir -p "$work/embed"
cd "$work/embed"
echo '{ "name": "embed-test", "private": true, "type": "module" }' >package.json
npm install --no-audit --no-fund --prefer-offline --loglevel=error --ignore-scripts \
  ../tarballs/aegis-proxy-*.tgz ../tarballs/aegis-guard-*.tgz ../tarballs/aegis-inspect-*.tgz \
  ../tarballs/aegis-policy-*.tgz ../tarballs/aegis-config-*.tgz >/dev/null
test ! -e node_modules/better-sqlite3 || { echo 'installing @aegis/proxy pulled in better-sqlite3' >&2; exit 1; }
cp "$REPO/examples/embed-gate/index.mjs" "$REPO/examples/embed-gate/local-upstream.mjs" .
embed="$(node index.mjs)"
case "$embed" in *"upstream received the injected credential: yes"*) echo 'embedded createGate (no native modules): ok' ;; *) echo "embed example failed: $embed" >&2; exit 1 ;; esac

echo "packed-tarball test: ok (${SECONDS}s)"
