#!/usr/bin/env bash
# The full forms of the crash and fault suite (docs/robustness.md): the API killed under load and restarted,
# PostgreSQL stopped under load and restarted, and healthy partners' delivery rate beside faulty partners.
# Everything listens on and talks to 127.0.0.1 only. Each dotnet test run is bounded by `timeout`.
#
#   bench/faults.sh              # crash and fault suite, full form (about 10 minutes on 2 cores), then three API
#                                # replicas behind nginx with a kill -9 (bench/run.sh --only replicas, a few more minutes)
#   bench/faults.sh --with-fuzz  # and the bad-input fuzzer with 10,000 requests per database
#   bench/faults.sh --without-replicas   # the dotnet test part only (no nginx needed)
#
# INTELSHARING_FUZZ_SEED and INTELSHARING_FUZZ_COUNT are passed through to the fuzzer (default here: a random seed, to
# explore beyond the fixed seed of the test suite, and 10,000 requests).
# PostgreSQL (initdb/pg_ctl) is required; the tests fail instead of skipping without it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

with_fuzz=false
with_replicas=true
for argument in "$@"; do
  case "$argument" in
    --with-fuzz) with_fuzz=true ;;
    --without-replicas) with_replicas=false ;;
    *) echo "Unknown argument: $argument (use --with-fuzz, --without-replicas)" >&2; exit 2 ;;
  esac
done

export INTELSHARING_REQUIRE_POSTGRES=1
dotnet build IntelSharing.sln --nologo -v quiet

status=0
echo "== Crash and fault suite, full form"
INTELSHARING_FAULT_FULL=1 timeout "${INTELSHARING_FAULT_TIMEOUT:-2400}" \
  dotnet test tests/IntelSharing.IntegrationTests --no-build --nologo \
  --filter "FullyQualifiedName~IntelSharing.IntegrationTests.Faults" || status=$?

if [[ "$with_fuzz" == true ]]; then
  echo "== Bad-input fuzzer, ${INTELSHARING_FUZZ_COUNT:-10000} requests per database"
  INTELSHARING_FUZZ_SEED="${INTELSHARING_FUZZ_SEED:-random}" INTELSHARING_FUZZ_COUNT="${INTELSHARING_FUZZ_COUNT:-10000}" timeout "${INTELSHARING_FUZZ_TIMEOUT:-1800}" \
    dotnet test tests/IntelSharing.IntegrationTests --no-build --nologo \
    --filter "FullyQualifiedName~BadInputFuzzTests" || status=$?
fi

if [[ "$with_replicas" == true ]]; then
  # Release build, its own PostgreSQL cluster and nginx (apt-get install nginx); 20,000 alerts; writes
  # bench/results/replicas.md and .json and exits 1 on any broken assertion (docs/robustness.md).
  echo "== Three replicas behind nginx, one killed with -9"
  bench/run.sh --only replicas || status=$?
fi

exit "$status"
