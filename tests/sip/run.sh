#!/usr/bin/env bash
# Runs the SIP scenarios of this folder against the call module: the test driver
# (tests/unit/test_call_sip.c) places and receives calls on re_main, starts one sipp per
# scenario (and baresip for interop) on loopback, and checks EndStatus, HungUpSide, SIP
# codes and timestamps. Ports: SIP 15060-15061, peers 15100-15199, RTP 20000-20999.
#
#   CCCD_BUILD=asan tests/sip/run.sh      the sanitizer build (default: release)
#   CCCD_TEST_DEBUG=1 tests/sip/run.sh    every SIP message on stderr
#   CCCD_SIPP_TRACE=1 tests/sip/run.sh    sipp message logs in build/sip-traces/
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=${CCCD_BUILD:-release}
bin="$root/build/$build/tests/test_call_sip"
[ -x "$bin" ] || make -j2 VARIANT="$build" >/dev/null
command -v sipp >/dev/null || { echo "sipp (Debian sip-tester) is not installed"; exit 1; }
mkdir -p build/sip-traces
cd build/sip-traces
CCCD_ROOT="$root" exec "$bin"
