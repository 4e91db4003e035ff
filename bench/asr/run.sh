#!/usr/bin/env bash
# The local recogniser (src/asr, PocketSphinx) on its labelled set (tests/data/asr, made by
# tests/data/asr/make.sh): per grammar the share of answers right, and the CPU time from the
# end of the answer to the result (the decoder starts when the caller's silence has ended
# the answer: that wait, the node's silenceMs, comes on top). The default (8 kHz upsampled
# to the model's 16 kHz, the model adapted to the telephone: src/asr/adapt), the model as
# packaged, and --narrow (the model at 8 kHz). Digit strings right are also printed per
# half of the set: the tuning half the adaptation's choices were made on, and the held-out
# half (docs/benchmarks.md). Prints figures, asserts nothing (scripts/test.sh holds the bars).
#
#   bench/asr/run.sh                  both front ends on tests/data/asr
#   DIR=/some/set bench/asr/run.sh    another labelled set (labels.tsv, intents.tsv)
#   BUILD_ONLY=1 bench/asr/run.sh     only builds build/release/itests/asr_eval (CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s -j2 build/release/itests/asr_eval
[ "${BUILD_ONLY:-0}" = 1 ] && exit 0
dir=${DIR:-tests/data/asr}
adapted=src/asr/adapt/en-us-telephone
# digit strings right per half: of each voice's four (17 files a voice, digits the 6th to
# the 9th), the first two are the tuning half, the last two held out
halves() {
	awk '/ digits_/ { f = $2; sub(/digits_/, "", f); h = (f - 6) % 17 < 2 ? "tuning" : "held";
		n[h]++; r[h] += $1 == "ok" } { if (!/^(ok|BAD) /) print }
	END { printf "digit strings right: tuning half %d/%d, held-out half %d/%d\n",
		r["tuning"], n["tuning"], r["held"], n["held"] }'
}
echo "== upsampled to 16 kHz, the model adapted to the telephone (the default)"
build/release/itests/asr_eval "$dir" --adaptation "$adapted" -v 2>/dev/null | halves
echo "== upsampled to 16 kHz, the model as packaged (adaptation = \"\")"
build/release/itests/asr_eval "$dir" --adaptation "" -v 2>/dev/null | halves
echo "== the model at 8 kHz (upsample = no)"
build/release/itests/asr_eval "$dir" --narrow --bar yesno=0 2>/dev/null
