#!/bin/sh
# Makes en-us-telephone/: PocketSphinx's 16 kHz US English model (Debian's
# pocketsphinx-en-us) adapted to telephone audio as cccd feeds it — 300–3400 Hz, 8 kHz
# µ-law, upsampled to 16 kHz — the way CMU Sphinx documents "Adapting the default acoustic
# model": bw collects the statistics of the adaptation speech under the model, map_adapt
# moves the model's Gaussian means and mixture weights toward them (MAP). Only the means
# and the weights (as a sendump) are kept: the adapted variances made the digit strings of
# the tuning half worse. docs/speech.md §The adapted model has why and the figures.
#
# The adaptation speech is made here, by espeak-ng voices that are NOT those of the
# accuracy set (tests/data/asr: espeak-ng en-us, en+m3, en+f3, en-gb; flite kal, slt, awb,
# rms): other variants, accents, speeds and pitches, saying digit strings other than the
# set's (whole, and cut into words as the engine cuts them), single digits, yes/no words,
# the keyword phrases and general sentences, through the same band, µ-law and noise as
# tests/data/asr/make.sh. Deterministic: the same tools make the same files (checked: a
# second run gave the committed files byte for byte). It takes 4 to 17 minutes, as busy as
# the machine is (the TTS and sox, one file at a time).
#
# Needs espeak-ng, sox, python3, sphinxtrain, sphinxbase-utils (sphinx_fe) and pocketsphinx
# (pocketsphinx_mdef_convert) — only to regenerate: the output is committed and installed
# by `make install`; cccd and its tests need none of these.
#
#   src/asr/adapt/make.sh            writes src/asr/adapt/en-us-telephone/
#   MODEL=/path/en-us make.sh        another copy of the model (default Debian's)
#   TAU=10 make.sh                   another MAP prior weight (default 3, the tuned one)
#   KEEP=1 make.sh                   keeps the work folder (speech, features, statistics)
set -eu
cd "$(dirname "$0")"
MODEL=${MODEL:-/usr/share/pocketsphinx/model/en-us}
ST=/usr/lib/sphinxtrain
TAU=${TAU:-3}
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
mkdir "$tmp/wav" "$tmp/mfc" "$tmp/acc"

# espeak-ng voices: variants (none of them m3, f3 or the default, which the accuracy set
# uses) over accents, each at its own speed (words a minute) and pitch (0–99), from the
# voice's number
VARIANTS="adam alicia andy annie belinda benjamin caleb david edward iven linda max michael
paul quincy robert steph anika grandma norbert m1 m5 f1 f4"
ACCENTS="en-us en-gb-x-rp en-029 en-gb-scotland en-us-nyc en-gb-x-gbclan en-gb-x-gbcwmd"
YESNO="yes no yeah nope correct yep sure right wrong"
PHRASES="billing pay_my_bill technical_support help sales operator talk_to_an_agent
cancel_my_order"
DIGIT_WORDS="zero one two three four five six seven eight nine oh"
SENTENCES="the birch canoe slid on the smooth planks
glue the sheet to the dark blue background
it is easy to tell the depth of a well
these days a chicken leg is a rare dish
rice is often served in round bowls
the juice of lemons makes fine punch
the box was thrown beside the parked truck
four hours of steady work faced us
a large size in stockings is hard to sell
the boy was there when the sun rose
please hold while we transfer your call
your account balance is seventy five dollars
thank you for calling customer service
press one for sales or stay on the line
i would like to speak to someone about my order"

n=0
# One utterance of the adaptation set: $1 an 8 kHz 16-bit WAV of clean band-limited speech,
# $2 its transcript. Every third gets the accuracy set's noise; then µ-law, and back to
# 16-bit at 16 kHz, as the engine hears it.
add() {
	n=$((n + 1))
	id=$(printf 'a%05d' "$n")
	if [ $((n % 3)) -eq 0 ]; then
		len=$(soxi -D "$1")
		sox -R -n -r 8000 -c 1 -b 16 "$tmp/noise.wav" synth "$len" pinknoise \
			sinc 300-3400 vol 0.06
		sox -R -m "$1" "$tmp/noise.wav" -e mu-law -b 8 "$tmp/ulaw.wav"
	else
		sox -R "$1" -e mu-law -b 8 "$tmp/ulaw.wav"
	fi
	sox -R "$tmp/ulaw.wav" -e signed -b 16 -r 16000 "$tmp/wav/$id.wav"
	echo "$id" >> "$tmp/ids"
	echo "<s> $2 </s> ($id)" >> "$tmp/trans"
}
# $1 text, into $tmp/band.wav: the voice's speech in the telephone band, 0.3 s of line
# silence either side, as tests/data/asr/make.sh makes it
speak() {
	espeak-ng -v "$voice" -s "$wpm" -p "$pitch" -w "$tmp/tts.wav" "$1"
	sox -R "$tmp/tts.wav" -r 8000 -c 1 -b 16 "$tmp/band.wav" sinc 300-3400 norm -3 \
		pad 0.3 0.3 2> /dev/null
}
# The words of $tmp/band.wav cut at its pauses (100 ms), each with 60 ms of context, as
# the engine's segmenter (src/asr/segment.c) hands a digit string's words to the decoder:
# one utterance per word when there are as many pieces as words in $1.
add_words() {
	rm -f "$tmp"/piece*.wav
	sox "$tmp/band.wav" "$tmp/piece.wav" silence 1 0.02 1% 1 0.1 1% : newfile : restart \
		2> /dev/null
	set -- $1
	pieces=$(ls "$tmp"/piece*.wav | wc -l)
	[ "$pieces" -ge "$#" ] || return 0
	for p in $(ls "$tmp"/piece*.wav | head -n "$#"); do
		sox "$p" "$tmp/word.wav" pad 0.06 0.06
		add "$tmp/word.wav" "$1"
		shift
	done
}

# digit strings: 4 to 8 digits from a fixed pseudo-random sequence (an LCG, so no tool's
# random numbers are involved)
seed=20261207
digits() {
	len=$((4 + seed % 5)); s=""
	while [ "$len" -gt 0 ]; do
		seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
		s="$s$(( seed / 65536 % 10 ))"; len=$((len - 1))
	done
	echo "$s"
}
name() { echo "$1" | sed 's/0/zero /g; s/1/one /g; s/2/two /g; s/3/three /g; s/4/four /g;
	s/5/five /g; s/6/six /g; s/7/seven /g; s/8/eight /g; s/9/nine /g; s/ $//'; }

i=0
for var in $VARIANTS; do
	i=$((i + 1))
	voice="$(echo $ACCENTS | cut -d' ' -f$((i % 7 + 1)))+$var"
	wpm=$((130 + i * 37 % 61))
	pitch=$((30 + i * 23 % 41))
	# two digit strings read with pauses (whole, and word by word), one without
	for j in 1 2 3; do
		d=$(digits)
		if [ "$j" -eq 3 ]; then
			speak "$(name "$d")"
			add "$tmp/band.wav" "$(name "$d")"
		else
			speak "$(echo "$d" | sed 's/./&, /g')"
			add "$tmp/band.wav" "$(name "$d")"
			add_words "$(name "$d")"
		fi
	done
	for w in $DIGIT_WORDS; do
		speak "$w"
		add_words "$w"
	done
	for k in 0 1 2 3 4; do
		y=$(echo $YESNO | cut -d' ' -f$(( (i * 5 + k) % 9 + 1 )))
		speak "$y"
		add "$tmp/band.wav" "$y"
	done
	for p in $PHRASES; do
		t=$(echo "$p" | tr _ ' ')
		speak "$t"
		add "$tmp/band.wav" "$t"
	done
	# two of the sentences per voice, rotating
	for k in 0 1; do
		s=$(echo "$SENTENCES" | sed -n "$(( (i * 2 + k) % 15 + 1 ))p")
		speak "$s"
		add "$tmp/band.wav" "$s"
	done
done

# features as the model's front end makes them, and the statistics under the model
sphinx_fe -argfile "$MODEL/en-us/feat.params" -samprate 16000 -c "$tmp/ids" \
	-di "$tmp/wav" -do "$tmp/mfc" -ei wav -eo mfc -mswav yes > "$tmp/fe.log" 2>&1
python3 sendump2mixw.py "$MODEL/en-us/sendump" "$tmp/mixture_weights"
pocketsphinx_mdef_convert -text "$MODEL/en-us/mdef" "$tmp/mdef.txt" > /dev/null 2>&1
"$ST/bw" -hmmdir "$MODEL/en-us" -moddeffn "$tmp/mdef.txt" -mixwfn "$tmp/mixture_weights" \
	-ts2cbfn .ptm. -feat 1s_c_d_dd -svspec 0-12/13-25/26-38 -cmn batch -agc none \
	-dictfn "$MODEL/cmudict-en-us.dict" -fdictfn "$MODEL/en-us/noisedict" \
	-ctlfn "$tmp/ids" -lsnfn "$tmp/trans" -cepdir "$tmp/mfc" -accumdir "$tmp/acc" \
	> "$tmp/bw.log" 2>&1 || { tail -20 "$tmp/bw.log"; exit 1; }
# MAP: each Gaussian's mean moved toward the adaptation data by as much as the data it saw
# (tau is the prior's weight, chosen on the tuning half of tests/data/asr's digit strings:
# docs/benchmarks.md), the mixture weights likewise, quantised back into a sendump. The
# model's other files (mdef, variances, transition matrices, feat.params) stay its own.
out=en-us-telephone
mkdir -p "$out"
"$ST/map_adapt" -moddeffn "$tmp/mdef.txt" -ts2cbfn .ptm. -meanfn "$MODEL/en-us/means" \
	-varfn "$MODEL/en-us/variances" -mixwfn "$tmp/mixture_weights" \
	-tmatfn "$MODEL/en-us/transition_matrices" -accumdir "$tmp/acc" -bayesmean no \
	-fixedtau yes -tau "$TAU" -mapmeanfn "$out/means" -mapvarfn "$tmp/map_var" \
	-mapmixwfn "$tmp/map_mixw" -maptmatfn "$tmp/map_tmat" > "$tmp/map.log" 2>&1 ||
	{ tail -20 "$tmp/map.log"; exit 1; }
"$ST/mk_s2sendump" -pocketsphinx yes -moddeffn "$tmp/mdef.txt" -mixwfn "$tmp/map_mixw" \
	-sendumpfn "$out/sendump" > "$tmp/sendump.log" 2>&1 || { tail -20 "$tmp/sendump.log"; exit 1; }
if [ -n "${KEEP:-}" ]; then echo "kept $tmp"; fi
echo "$n utterances, $(grep -c 'ignored' "$tmp/bw.log") not aligned; $out: $(du -sh "$out" | cut -f1)"
