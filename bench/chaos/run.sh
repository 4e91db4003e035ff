#!/usr/bin/env bash
# The chaos bench: tests/integration/chaos.test.mjs with more kills. A mixed load
# (creates, calls, DescribeTelSession, admin changes, pushes) runs against one cccd that is
# killed with SIGKILL at random moments and restarted on the same database; each round
# prints what was checked after the restart, the end prints the totals (sessions, records,
# pushes and duplicates, admin changes). Exits non-zero on the first broken guarantee.
#
#   bench/chaos/run.sh [ROUNDS]        200 kills by default
#   CHAOS_SEED=N bench/chaos/run.sh    replays a run's random choices (printed at its start)
#   CCCD_BUILD=asan bench/chaos/run.sh 50
#   CHAOS_LOG=/tmp/chaos.log ...       keeps the logs of every cccd process of the run
#
# It binds loopback ports: run it in a network namespace of its own when others test on
# the machine: unshare -n bash -c 'ip link set lo up; bench/chaos/run.sh 100'
set -euo pipefail
cd "$(dirname "$0")/../.."

export CHAOS_ROUNDS=${1:-200}
make -j2 ${CCCD_BUILD:+VARIANT=$CCCD_BUILD} >/dev/null
# Run directly rather than under `node --test`: the rounds print as they happen.
exec node tests/integration/chaos.test.mjs
