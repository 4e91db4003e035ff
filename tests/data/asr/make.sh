#!/bin/sh
# Makes the local recogniser's accuracy set (tests/data/asr/): spoken answers an IVR asks
# for — yes/no, digit strings of 4 to 8 digits, intents' keywords — in several synthetic
# voices (espeak-ng variants, flite voices) and speeds, as a telephone would deliver them:
# 300–3400 Hz band, 8 kHz µ-law, a third of them with noise mixed in at about 15–20 dB SNR.
# Deterministic: the same tools make the same files (sox -R: repeatable noise and dither); labels.tsv
# says what each file says (file, grammar, expected text or intent), intents.tsv is the
# keyword grammar (intent, phrase). Re-run after changing the lists; the eval program
# (tests/integration/asr_eval.c) and bench/asr/run.sh read the result.
#
# `make.sh fresh` makes tests/data/asr-fresh/ instead: 64 digit strings none of the work
# on the recogniser ever heard (new strings from a fixed generator, 8 per voice of the same
# voices), made after the adaptation (src/asr/adapt) was chosen, to measure it on answers
# it was never tuned on.
set -eu
cd "$(dirname "$0")"
fresh=""
if [ "${1:-}" = fresh ]; then
	fresh=1
	mkdir -p ../asr-fresh
	cp intents.tsv ../asr-fresh/
	cd ../asr-fresh
fi
rm -f ./*.wav labels.tsv
[ -n "$fresh" ] || rm -f intents.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# voice: engine:name:speed (espeak-ng words per minute; flite duration stretch)
VOICES="espeak:en-us:150 espeak:en+m3:185 espeak:en+f3:140 espeak:en-gb:165
flite:kal:1.0 flite:slt:1.15 flite:awb:0.9 flite:rms:1.05"

YESNO="yes:yes no:no yeah:yes nope:no correct:yes"
DIGITS="4719 80235 3158 6207 9054 2117683 48213596 60402 7731"
# intent:phrase (the phrases, per intent, of the keyword grammar the eval uses)
KEYWORDS="billing:billing billing:pay_my_bill support:technical_support support:help
sales:sales agent:operator agent:talk_to_an_agent cancel:cancel_my_order"

n=0
say() { # $1 voice spec, $2 text, $3 out (16-bit wav at the TTS's own rate)
	eng=${1%%:*}; rest=${1#*:}; name=${rest%%:*}; speed=${rest#*:}
	if [ "$eng" = espeak ]; then
		espeak-ng -v "$name" -s "$speed" -w "$3" "$2"
	else
		flite -voice "$name" --setf duration_stretch="$speed" -t "$2" -o "$3"
	fi
}
make_one() { # $1 voice, $2 text, $3 grammar, $4 label
	n=$((n + 1))
	f=$(printf '%s_%03d.wav' "$3" "$n")
	say "$1" "$2" "$tmp/tts.wav"
	# 0.3 s of line silence either side, the telephone band, 8 kHz, peak at -3 dBFS
	sox -R "$tmp/tts.wav" -r 8000 -c 1 -b 16 "$tmp/band.wav" sinc 300-3400 norm -3 \
		pad 0.3 0.3
	if [ $((n % 3)) -eq 0 ]; then
		len=$(soxi -D "$tmp/band.wav")
		sox -R -n -r 8000 -c 1 -b 16 "$tmp/noise.wav" synth "$len" pinknoise \
			sinc 300-3400 vol 0.06
		sox -R -m "$tmp/band.wav" "$tmp/noise.wav" -e mu-law -b 8 "$f"
	else
		sox -R "$tmp/band.wav" -e mu-law -b 8 "$f"
	fi
	printf '%s\t%s\t%s\n' "$f" "$3" "$4" >> labels.tsv
}

if [ -n "$fresh" ]; then
	seed=20261208
	for v in $VOICES; do
		for j in 1 2 3 4 5 6 7 8; do
			# a linear congruential generator: the same strings from any shell
			seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
			len=$(( 4 + seed % 5 )) d=""
			while [ ${#d} -lt $len ]; do
				seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
				d="$d$(( (seed / 65536) % 10 ))"
			done
			make_one "$v" "$(echo "$d" | sed 's/./&, /g')" digits "$d"
		done
	done
	echo "$n files, $(du -ch ./*.wav | tail -1 | cut -f1)"
	exit 0
fi
for k in $KEYWORDS; do
	printf '%s\t%s\n' "${k%%:*}" "$(echo "${k#*:}" | tr _ ' ')" >> intents.tsv
done
i=0
for v in $VOICES; do
	i=$((i + 1))
	for y in $YESNO; do
		make_one "$v" "${y%%:*}" yesno "${y#*:}"
	done
	# each voice its share of the digit strings: four per voice, rotating
	for j in 0 1 2 3; do
		d=$(echo $DIGITS | cut -d' ' -f$(( (i * 4 + j) % 9 + 1 )))
		make_one "$v" "$(echo "$d" | sed 's/./&, /g')" digits "$d"
	done
	for k in $KEYWORDS; do
		p=$(echo "${k#*:}" | tr _ ' ')
		make_one "$v" "$p" keywords "${k%%:*}"
	done
done
echo "$n files, $(du -ch ./*.wav | tail -1 | cut -f1)"
