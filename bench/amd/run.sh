#!/usr/bin/env bash
# Answering-machine detection figures (docs/amd.md): the detector with its default
# thresholds over the labelled recordings of tests/data/amd, the tune part and the
# held-out part apart — per-file verdicts that are wrong, the confusion matrix, accuracy,
# humans called machines, the median decision time of humans (audio time) and the beeps
# found. The held-out part is the one to quote: nothing was tuned on it.
#
#   bench/amd/run.sh                 both parts
#   VERBOSE=1 bench/amd/run.sh       every file's line
#   CONF=my.conf bench/amd/run.sh    with the [amd] section of a config file
#   CCCD_BUILD=asan bench/amd/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${CCCD_BUILD:-release}
make -s -j2 VARIANT="$build" "build/$build/amd/amd_eval"
args=()
[ -n "${VERBOSE:-}" ] || args+=(--quiet)
[ -n "${CONF:-}" ] && args+=(--conf "$CONF")
for part in tune heldout; do
	"build/$build/amd/amd_eval" "${args[@]}" --part "$part" tests/data/amd/labels.csv
done
