#!/usr/bin/env bash
# The local recogniser (src/asr, PocketSphinx) on its labelled set (tests/data/asr, made by
# tests/data/asr/make.sh): per grammar the share of answers right, and the CPU time from the
# end of the answer to the result (the decoder starts when the caller's silence has ended
# the answer: that wait, the node's silenceMs, comes on top). Both front ends: the default
# (8 kHz upsampled to the model's 16 kHz) and --narrow (the model at 8 kHz). Prints figures,
# asserts nothing (scripts/test.sh holds the bars).
#
#   bench/asr/run.sh                  both front ends on tests/data/asr
#   DIR=/some/set bench/asr/run.sh    another labelled set (labels.tsv, intents.tsv)
#   BUILD_ONLY=1 bench/asr/run.sh     only builds build/release/itests/asr_eval (CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s -j2 build/release/itests/asr_eval
[ "${BUILD_ONLY:-0}" = 1 ] && exit 0
dir=${DIR:-tests/data/asr}
echo "== upsampled to 16 kHz (the default)"
build/release/itests/asr_eval "$dir" --bar yesno=0 2>/dev/null
echo "== the model at 8 kHz (upsample = no)"
build/release/itests/asr_eval "$dir" --narrow --bar yesno=0 2>/dev/null
