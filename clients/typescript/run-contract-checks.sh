#!/usr/bin/env bash
# Contract checks for integrators, against a real server:
#   lint            Redocly lint of openapi/intelsharing.v1.json (redocly.yaml at the repository root)
#   generated       src/schema.d.ts is what openapi-typescript makes of the committed document
#   typecheck       tsc --noEmit: the generated types fit every call the client and the scripts make
#   core-flow       e2e/core-flow.ts through the typed client, with a signed webhook to a local receiver
#   swagger-ui      e2e/swagger-ui.ts: Swagger UI renders in headless Debian Chromium (TestResults/swagger-ui.png)
# It builds the API, starts it on a free loopback port in a temporary folder (SQLite there), bootstraps an
# operator key, runs the checks, stops the server, and ends with one line: N passed, N failed.
# Exits non-zero when a check failed or the server could not be started.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # playwright-core never downloads; this keeps it that way
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

passed=0 failed=0
work="" server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "$work" ]]; then
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

abort() { # the run itself cannot go on: report what ran so far
  echo "contract checks: $1" >&2
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
}

check() { # check NAME SECONDS COMMAND...: runs one check, bounded in time
  local name="$1" seconds="$2"
  shift 2
  echo "==> $name"
  local started=$SECONDS
  if timeout --kill-after=10 "$seconds" "$@"; then
    echo "PASS $name ($((SECONDS - started)) s)"
    passed=$((passed + 1))
  else
    echo "FAIL $name ($((SECONDS - started)) s, exit $?)"
    failed=$((failed + 1))
  fi
}

# ---- What the checks need ------------------------------------------------------------------------------------
if ! command -v npm >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  as_root=()
  if [[ "$(id -u)" -ne 0 ]]; then as_root=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update
  command -v npm >/dev/null 2>&1 || "${as_root[@]}" apt-get install -y nodejs npm
  command -v chromium >/dev/null 2>&1 || "${as_root[@]}" apt-get install -y chromium
fi
chromium_path="${CHROMIUM_PATH:-$(command -v chromium)}"
timeout 300 npm ci --no-audit --no-fund || abort "npm ci failed"

echo "==> build the API"
timeout 900 dotnet build "$root/src/IntelSharing.Api" -c Debug -v quiet -nologo || abort "dotnet build failed"
dll="$root/src/IntelSharing.Api/bin/Debug/net10.0/IntelSharing.Api.dll"

# ---- A server of our own -------------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/intelsharing-contract.XXXXXX")"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
base_url="http://127.0.0.1:$port"
export ASPNETCORE_ENVIRONMENT=Development      # the secrets key is generated into the temporary folder
export Delivery__AllowHttp=true                # the test receiver is plain http…
export Delivery__AllowedPrivateNetworks__0=127.0.0.0/8 # …on loopback

echo "==> bootstrap an operator key"
operator_key="$(cd "$work" && timeout 120 dotnet "$dll" bootstrap-admin --name "Contract checks — IntelSharing Operations" --country RS | tail -n 1)" \
  || abort "bootstrap-admin failed"
[[ "$operator_key" == isk_* ]] || abort "bootstrap-admin did not print a key on its last line"

echo "==> start the API on $base_url (folder $work)"
(cd "$work" && exec dotnet "$dll" --urls "$base_url" >"$work/server.log" 2>&1) &
server_pid=$!
ready=""
for _ in $(seq 1 120); do
  if curl -fsS "$base_url/health/ready" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.5
done
if [[ -z "$ready" ]]; then
  tail -n 40 "$work/server.log" >&2 || true
  abort "the API did not become ready on $base_url"
fi

export INTELSHARING_BASE_URL="$base_url" INTELSHARING_OPERATOR_KEY="$operator_key" CHROMIUM_PATH="$chromium_path"

# ---- The checks ----------------------------------------------------------------------------------------------
check "lint" 120 npx redocly lint --config "$root/redocly.yaml" "$root/openapi/intelsharing.v1.json" --format stylish
check "generated" 120 bash -c 'npx openapi-typescript ../../openapi/intelsharing.v1.json --output "$0/schema.d.ts" >/dev/null \
  && diff -q "$0/schema.d.ts" src/schema.d.ts || { echo "src/schema.d.ts is stale: run npm run generate" >&2; exit 1; }' "$work"
check "typecheck" 180 npx tsc --noEmit
check "core-flow" 120 npx tsx e2e/core-flow.ts
check "swagger-ui" 120 npx tsx e2e/swagger-ui.ts "$root/TestResults/swagger-ui.png"

if [[ "$failed" -gt 0 ]]; then
  echo "--- last lines of the server log ---"
  tail -n 40 "$work/server.log" || true
fi
echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
