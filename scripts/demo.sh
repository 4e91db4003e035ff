#!/usr/bin/env bash
# Installs what is missing, builds cccd and starts it with the demo configuration
# (demo/cccd.conf): API on 127.0.0.1:8080, the demo tenant provisioned on first start,
# credentials in var/demo-credentials.env; beside it a simulated phone (sipp, answers on
# 127.0.0.1:5080, presses 1), the push receiver (9090) and the IVR's order endpoint (9091).
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
make -j"$(nproc)" >/dev/null

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The simulated phone answers calls on 127.0.0.1:5080 (any number of them), and the
# demo services take pushes on 9090 and the IVR's HTTP lookups on 9091.
mkdir -p var
sipp -sf demo/phone.xml -i 127.0.0.1 -p 5080 -mi 127.0.0.1 -mp 31000 -nostdin \
	-error_file var/phone-errors.log >var/phone.log 2>&1 &
pids+=($!)
node demo/services.mjs &
pids+=($!)
./build/release/cccd --config demo/cccd.conf &
pids+=($!)

cat <<'MSG'

cccd is starting with the demo tenant. In another terminal, place the seed's example call:

  set -a; . var/demo-credentials.env; set +a
  ./build/release/ccc call CreateIVRSession --json '{"Callee":"008612300000000","SdkAppId":1400000000,"IVRId":4500}'

and watch it in the web console at $CCCD_CONSOLE_URL (SdkAppId 1400000000, user admin,
the password $CCCD_CONSOLE_PASSWORD from var/demo-credentials.env; docs/console.md).

MSG
wait "${pids[-1]}"
