#!/usr/bin/env bash
# The tasks bench: auto-callout tasks at size and at rate, on one real cccd (SQLite store).
# Prints figures, asserts nothing; every wait is bounded.
#
#  1. CreateAutoCalloutTask with CREATE_CALLEES callees (default 100,000), NotBefore a
#     month ahead so they all wait: the request's time, cccd's resident memory before and
#     after (and per waiting callee), the store's growth (database + WAL).
#  2. DescribeAutoCalloutTask on that task: its time and the answer's size.
#  3. For each rate of RATES ([tasks] calls_per_second; default 50 and 200; cccd restarted
#     with it) and each size of WAITING (default 1,000 and 100,000): a task that starts at
#     once with WAITING callees more than the window will call, to a sipp UAS that answers
#     every INVITE 486 Busy (Tries 1: no retries); after WARMUP_S (default 40: past the
#     32 s a SIP transaction lives) the attempts the store holds for it (sessions of the
#     task, counted with sqlite3, outside cccd) are counted over RATE_SECONDS (default
#     60): the achieved rate and its deviation from the configured one, and cccd's CPU
#     time (utime + stime of /proc/PID/stat) per attempt.
#     The task is stopped after each window. [tasks] tick_ms is TICK_MS (default 1000, the
#     default of cccd).
#
#   bench/tasks/run.sh                                     the full run (about 8 minutes)
#   RATES=50,200,500 bench/tasks/run.sh                    and 500/s (about 11 minutes)
#   CREATE_CALLEES=2000 WAITING=100,2000 RATE_SECONDS=10 bench/tasks/run.sh   a small one
#   RATES= bench/tasks/run.sh                              only steps 1 and 2
#   BUILD_ONLY=1 bench/tasks/run.sh                        only builds
#
# Ports: cccd's and sipp's are handed out by the kernel (tests/integration/lib/cccd.mjs).
# Run it in a network namespace of its own on a shared machine:
#   unshare -n bash -c 'ip link set lo up && bench/tasks/run.sh'
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v sipp >/dev/null || { echo "sipp (Debian sip-tester) is not installed"; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 1; }
make -j2 >/dev/null
[ -n "${BUILD_ONLY:-}" ] && exit 0
export CCCD_BUILD=release CCCD_STORE=sqlite
exec node bench/tasks/tasks.mjs
