#!/usr/bin/env bash
# The soak bench: one real cccd under a mixed load for MINUTES (answered calls placed with
# CreateIVRSession to a sipp phone, DescribeTelSession/DescribeTelCdr, CDR pushes
# to a receiver that fails some and never answers others, blacklist edits through the
# Cccd* actions), printing each minute cccd's resident memory, open descriptors, threads,
# store database and WAL size, sessions created, CDRs pushed, queries, admin requests,
# pushes answered ok/500/never and errors; then, after the load, the same figures once
# every record is delivered and cccd has settled, against a baseline taken after warm-up.
# libre's timers are not counted (libre 1.1.0 has no public count of them); threads are.
# Prints figures; with CHECK=1 (the test command's 3-minute run) it also exits non-zero when
# descriptors are not back to the baseline (FD_SLACK), resident memory grew more than
# RSS_PER_CALL bytes per call, the WAL passed WAL_MAX, or a session lacks its CDR push.
# It can run for days (MINUTES=4320): nothing it keeps grows with the run but one id per
# session.
#
#   bench/soak/run.sh                          10 minutes, 5 creates/s, release build
#   MINUTES=60 RATE=5 BUILD=asan bench/soak/run.sh
#   MINUTES=120 RATE=20 TENANTS=2 bench/soak/run.sh
#   CHECK=1 MINUTES=3 bench/soak/run.sh        what scripts/test.sh runs
#   PUSH_FAIL=0.15 PUSH_HANG=0.05 KEEP=1 ...   receiver's failure shares; keep the folder
#
# Ports: cccd's API and SIP ports and sipp's are handed out by the kernel; RTP and sipp's
# media ports are reserved by tests/integration/lib/cccd.mjs below the ephemeral range.
# Run it in a network namespace of its own on a shared machine:
#   unshare -n bash -c 'ip link set lo up && bench/soak/run.sh'
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-release}
export BUILD
command -v sipp >/dev/null || { echo "sipp (Debian sip-tester) is not installed"; exit 1; }
make -j2 VARIANT="$BUILD" >/dev/null
[ -n "${BUILD_ONLY:-}" ] && exit 0
if [ "$BUILD" = asan ]; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:-"detect_leaks=1:abort_on_error=1"}
fi
exec node bench/soak/soak.mjs
