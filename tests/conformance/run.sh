#!/usr/bin/env bash
# Runs the official MCP conformance suite against `codemode serve --http` on a
# loopback port, for both protocol eras, with the baseline in
# expected-failures.txt. Fails on any unexpected failure and on any listed
# failure that now passes (stale baseline).
#
# Usage: tests/conformance/run.sh            (from anywhere; builds nothing)
# Env:   CODEMODE_BIN     the binary [target/debug/codemode]
#        CONFORMANCE_PORT loopback port [18790]
# Needs Node >= 22: uses `node` from PATH if it is >= 22, else installs the
# npm package node@22 into tests/conformance/.node.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${CODEMODE_BIN:-$root/target/debug/codemode}"
port="${CONFORMANCE_PORT:-18790}"
url="http://127.0.0.1:$port/mcp"

[ -x "$bin" ] || { echo "conformance: $bin not found: run cargo build first (or set CODEMODE_BIN)"; exit 1; }
command -v npm >/dev/null || { echo "conformance: npm is required (Node.js)"; exit 1; }
command -v curl >/dev/null || { echo "conformance: curl is required"; exit 1; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  if [ ! -x "$here/.node/node_modules/node/bin/node" ]; then
    echo "== conformance: installing node@22 (npm) into tests/conformance/.node"
    npm install --prefix "$here/.node" --no-audit --no-fund --no-save node@22 >/dev/null
  fi
  export PATH="$here/.node/node_modules/node/bin:$PATH"
fi
[ "$(node_major)" -ge 22 ] || { echo "conformance: Node >= 22 is required, have $(node --version)"; exit 1; }
echo "== conformance: node $(node --version)"
(cd "$here" && npm ci --no-audit --no-fund >/dev/null)

work="$(mktemp -d)"
results="$root/target/conformance-results"
rm -rf "$results"; mkdir -p "$results"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" serve --spec "notes=$root/fixtures/mcp/notes.yaml" --http "127.0.0.1:$port" \
  2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then echo "conformance: server exited"; cat "$work/server.log"; exit 1; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { echo "conformance: server not healthy"; cat "$work/server.log"; exit 1; }

# expected-failures.txt → the suite's YAML baseline for one run.
baseline() {
  local run="$1" out="$2"
  echo "server:" >"$out"
  awk -v run="$run" '$1 == run { print "  - " $2 }' "$here/expected-failures.txt" >>"$out"
}

status=0
run_suite() {
  local name="$1" pkg="$2"; shift 2
  baseline "$name" "$work/baseline-$name.yaml"
  echo "== conformance $name ($pkg $*)"
  if node "$here/node_modules/$pkg/dist/index.js" server --url "$url" "$@" \
      --expected-failures "$work/baseline-$name.yaml" -o "$results/$name" >"$work/out-$name.txt" 2>&1; then
    sed -n '/=== SUMMARY ===/,$p' "$work/out-$name.txt" | tail -n +2 | grep -E '^(Total|Not scored)' || true
    echo "   $name: PASS (only the expected failures)"
  else
    sed -n '/=== SUMMARY ===/,$p' "$work/out-$name.txt"
    echo "   failing checks:"
    grep -l '"status": "FAILURE"' "$results/$name"/*/checks.json 2>/dev/null | while read -r f; do
      node -e 'const c=require(process.argv[1]); for (const k of c) if (k.status==="FAILURE") console.log("     "+process.argv[1].split("/").slice(-2)[0]+" "+k.id+": "+(k.errorMessage||"").slice(0,200))' "$f"
    done
    echo "   $name: FAIL (unexpected failure or stale baseline entry; see above; results in $results/$name)"
    status=1
  fi
}

run_suite 2026-07-28 conf-modern --requirements 2026-07-28
run_suite 2025-11-25 conf-modern --requirements 2025-11-25
run_suite 0.1.16 conf-legacy

exit "$status"
