#!/usr/bin/env bash
# The benchmark suite (issues 5 and 9; docs/benchmarks.md): the API's ingest, reads, delivery drain and end-to-end
# rate and latency, each measured beside a limit of the same machine in the same run that does not move with the
# product — L_http (a no-op Kestrel POST under the same generator, connections and payload), L_db and L_read (pgbench,
# prepared, of the minimal write and the one primary-key read: bench/sql/limit-*.sql), L_drain (signed no-op POSTs to
# the same receivers, one UPDATE per batch) and SQLite's own minimal write — and prints each ratio with its target.
# Release build; a throwaway PostgreSQL cluster with production durability (fsync, synchronous_commit on);
# everything on 127.0.0.1; bounded by `timeout`.
#
#   bench/run.sh           # full run, about 25 minutes on 2 cores (bounded at 45); writes bench/results/latest.md and latest.json
#   bench/run.sh --quick   # smoke test, 3–4 minutes on a busy 2-core machine; writes bench/results/quick.md and quick.json
#   bench/run.sh --quick --only drain   # one phase (ingest, reads, search, sqlite, drain, e2e, indicators, taxii or console) while working on it; without
#                                       # --quick a single phase writes bench/results/partial.md and partial.json
#   bench/run.sh --quick --only e2e --e2e-rate 100   # end to end at another rate than the target's 1,000/s
#   bench/run.sh --only replicas           # not a benchmark but a fault run (docs/robustness.md): three API replicas
#                                          # behind nginx, one killed with -9; 20,000 alerts; writes bench/results/replicas.md
#                                          # and .json; --quick: 3,000 alerts, replicas-quick.*. Needs nginx (apt-get install nginx).
#
# INTELSHARING_BENCH_PGBENCH runs another pgbench than the cluster's (e.g. a wrapper that breaks it, to see a run abort).
# Needs the .NET SDK and PostgreSQL's server binaries with pgbench and pg_stat_statements
# (Debian/Ubuntu: apt-get install postgresql postgresql-contrib). As root, the cluster runs as 'postgres' via runuser.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

quick=()
only=()
limit="${INTELSHARING_BENCH_TIMEOUT:-2700}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=(--quick); limit="${INTELSHARING_BENCH_TIMEOUT:-600}" ;;
    --only) only+=(--only "$2"); shift ;;
    --e2e-rate) only+=(--e2e-rate "$2"); shift ;;
    *) echo "Unknown argument: $1 (use --quick, --only ingest|reads|search|sqlite|drain|e2e|indicators|taxii|console|replicas, --e2e-rate <alerts/s>)" >&2; exit 2 ;;
  esac
  shift
done

bin=""
if command -v initdb >/dev/null 2>&1; then
  bin="$(dirname "$(readlink -f "$(command -v initdb)")")"
elif compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
fi
if [[ -z "$bin" || ! -x "$bin/pgbench" ]]; then
  echo "PostgreSQL server binaries with pgbench are required (apt-get install postgresql postgresql-contrib)." >&2
  exit 1
fi

echo "== Release build"
dotnet build src/IntelSharing.Api -c Release --nologo -v quiet
dotnet build bench/IntelSharing.Bench -c Release --nologo -v quiet

as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

directory="$(mktemp -d /tmp/intelsharing-bench-pg-XXXXXX)"
[[ "$(id -u)" == 0 ]] && chown postgres:postgres "$directory"
cleanup() {
  cp "$directory/server.log" bench/results/postgres.log 2>/dev/null || true
  as_postgres "$bin/pg_ctl" -D "$directory/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$directory"
}
trap cleanup EXIT

port=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 30000))
  if ! ss -Htln "sport = :$candidate" | grep -q .; then port=$candidate; break; fi
done

# pg_stat_statements gives the statements per alert; without it (no postgresql-contrib) those columns stay empty.
preload="-c shared_preload_libraries=pg_stat_statements"
if [[ ! -f "$("$bin/pg_config" --pkglibdir 2>/dev/null)/pg_stat_statements.so" ]]; then
  echo "pg_stat_statements is not installed: statements per alert will not be measured." >&2
  preload=""
fi

echo "== PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($directory)"
as_postgres "$bin/initdb" -D "$directory/data" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
# Production durability (fsync, synchronous_commit and full_page_writes stay on). Larger shared_buffers and
# max_wal_size than the defaults, as any server sized for this load would have; pg_stat_statements for the
# statements per alert. INTELSHARING_BENCH_PG_OPTIONS adds server options while profiling (e.g. auto_explain);
# the server log is kept as bench/results/postgres.log.
as_postgres "$bin/pg_ctl" -D "$directory/data" -l "$directory/server.log" -w -t 60 -o \
  "-p $port -k $directory -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=512MB -c max_wal_size=4GB $preload ${INTELSHARING_BENCH_PG_OPTIONS:-}" \
  start >/dev/null

commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench && echo '' || echo '+uncommitted')"
timeout "$limit" dotnet bench/IntelSharing.Bench/bin/Release/net10.0/IntelSharing.Bench.dll run "${quick[@]}" "${only[@]}" \
  --admin-connection "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=false" \
  --api src/IntelSharing.Api/bin/Release/net10.0/IntelSharing.Api.dll \
  --pgbench "${INTELSHARING_BENCH_PGBENCH:-$bin/pgbench}" --sql bench/sql --out bench/results --commit "$commit"
