#!/usr/bin/env bash
# Installs what is missing, builds cccd and starts it with the demo configuration
# (demo/cccd.conf): API on 127.0.0.1:8080, the demo tenant provisioned on first start,
# credentials in var/demo-credentials.env. Ctrl-C stops everything it started.
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

./build/release/cccd --config demo/cccd.conf &
pids+=($!)

cat <<'MSG'

cccd is starting with the demo tenant. In another terminal, place the seed's example call:

  set -a; . var/demo-credentials.env; set +a
  ./build/release/ccc call CreateIVRSession --json '{"Callee":"008612300000000","SdkAppId":1400000000,"IVRId":4500}'

MSG
wait "${pids[0]}"
