#!/usr/bin/env bash
# The README's "Try webhooks locally" walk, run as a newcomer pastes it: the "# Terminal 1" block starts the API with
# `dotnet run` (Development, SQLite, http://localhost:5080); the "# Terminal 2" block runs unchanged in one bash, followed
# by the command the README gives to stop the receiver ("Stop the receiver with `…`"). Checks, from what the walk printed:
#   api-ready        Terminal 1's API answers /health/ready
#   ping             the ping is answered 204 and the demo receiver logs it verified
#   alert-delivered  the alert is accepted (201) and the receiver logs alert.published verified
#   receiver-stops   the README's stop command stops the receiver
# Only the database and the encryption key are redirected, through the environment the blocks inherit, to a temporary
# folder: a developer's own src/IntelSharing.Api/intelsharing.db is not touched. Needs the .NET SDK, Node.js 20+, curl,
# python3, and ports 5080 and 8080 free. Ends with one line: N passed, N failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

passed=0 failed=0
work="$(mktemp -d "${TMPDIR:-/tmp}/intelsharing-readme-walk.XXXXXX")"
api_pid="" walk_pid=""
cleanup() {
  for pid in "$walk_pid" "$api_pid"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -- "-$pid" 2>/dev/null || true
    fi
  done
  sleep 1
  for pid in "$walk_pid" "$api_pid"; do
    [[ -n "$pid" ]] && kill -9 -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

result() { # result NAME CONDITION-EXIT-CODE
  if [[ "$2" -eq 0 ]]; then echo "PASS $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi
}
finish() {
  if [[ "$failed" -gt 0 ]]; then
    echo "--- the walk's output ---"; cat "$work/walk.log" 2>/dev/null || true
    echo "--- the API's last lines ---"; tail -n 30 "$work/api.log" 2>/dev/null || true
  fi
  echo "$passed passed, $failed failed"
  if [[ "$failed" -eq 0 ]]; then exit 0; else exit 1; fi
}

# The blocks, exactly as the README has them.
python3 - "$work" <<'PY'
import re, sys
readme = open("README.md", encoding="utf-8").read()
blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
def block(first_line):
    found = [b for b in blocks if b.startswith(first_line)]
    if len(found) != 1:
        sys.exit(f"README.md has {len(found)} bash blocks starting with '{first_line}', not one")
    return found[0]
stop = re.search(r"Stop the receiver with `([^`]+)`", readme)
if not stop:
    sys.exit("README.md no longer says how to stop the receiver ('Stop the receiver with `…`')")
open(f"{sys.argv[1]}/terminal1.sh", "w", encoding="utf-8").write(block("# Terminal 1"))
# Between the last command and the stop, the newcomer watches for the receiver's line ("within a second"): bounded here.
watch = 'for _ in $(seq 1 60); do grep -q \'"type":"alert.published"\' "$WALK_LOG" && break; sleep 1; done'
open(f"{sys.argv[1]}/terminal2.sh", "w", encoding="utf-8").write(block("# Terminal 2") + "\n" + watch + "\n" + stop.group(1) + "\nwait\n")
PY

for port in 5080 8080; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "readme walk: port $port is in use; the walk needs it free." >&2
    result "ports 5080 and 8080 free" 1
    finish
  fi
done

export Database__ConnectionString="Data Source=$work/intelsharing.db"
export Secrets__EncryptionKey="$(head -c 32 /dev/urandom | base64)"

echo "==> Terminal 1"
setsid bash "$work/terminal1.sh" > "$work/api.log" 2>&1 &
api_pid=$!
ready=1
for _ in $(seq 1 300); do
  if curl -fsS http://localhost:5080/health/ready > /dev/null 2>&1; then ready=0; break; fi
  kill -0 "$api_pid" 2>/dev/null || break
  sleep 1
done
result api-ready "$ready"
[[ "$ready" -eq 0 ]] || finish

echo "==> Terminal 2"
# The receiver logs to the walk's output, as it does in the newcomer's terminal. Bounded: npm ci, a build and two HTTP exchanges.
WALK_LOG="$work/walk.log" setsid bash "$work/terminal2.sh" > "$work/walk.log" 2>&1 &
walk_pid=$!
for _ in $(seq 1 600); do kill -0 "$walk_pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$walk_pid" 2>/dev/null; then
  echo "(the walk did not end within 10 minutes)"
  kill -- "-$walk_pid" 2>/dev/null || true
fi
walk_status=0
wait "$walk_pid" || walk_status=$?
echo "(the walk's shell exited with $walk_status)"

if grep -q '"statusCode":204,"succeeded":true' "$work/walk.log" && grep -q '"event":"verified".*"type":"ping"' "$work/walk.log"; then
  result ping 0
else
  result ping 1
fi
if grep -q '"event":"verified".*"type":"alert.published"' "$work/walk.log"; then result alert-delivered 0; else result alert-delivered 1; fi
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then result receiver-stops 1; else result receiver-stops 0; fi
finish
