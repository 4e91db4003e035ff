#!/usr/bin/env bash
# Makes the labelled recordings of the answering-machine detector (docs/amd.md) and
# labels.csv: human greetings, voicemail greetings with and without beeps, silence, line
# noise and music on hold, each 8 kHz mono 8-bit µ-law WAV of at most 8 s.
#
#     tests/data/amd/make.sh        (from anywhere; needs espeak-ng, flite, sox)
#
# Deterministic: TTS is, and sox's noise comes from its fixed seed (-R). Two parts with
# nothing in common but the method: "tune" (the voices, texts, noises and levels the
# thresholds were chosen on) and "heldout" (other voices, other texts, other noise colours
# and SNRs, other beep frequencies) which is only ever measured, never tuned on.
#
# Levels: speech is normalised to -3 dBFS peak (about -20 dBFS RMS) and then given a
# per-file gain; noise is given as its RMS level in dBFS, so SNR ≈ -20 - gain - noise.
set -euo pipefail
cd "$(dirname "$0")"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rm -f ./*.wav
echo "file,label,part,description" > labels.csv

SOX="sox -R -V1"

# say VOICE RATE PITCH TEXT OUT — VOICE is espeak-ng's (en-us+f2) or flite:NAME; RATE is
# words a minute for espeak-ng, a tempo factor for flite; PITCH is espeak-ng's 0..99, or
# cents for flite. Out: 8 kHz, telephone band, silence trimmed, -3 dBFS peak.
say() {
	local voice=$1 rate=$2 pitch=$3 text=$4 out=$5
	if [[ $voice == flite:* ]]; then
		flite -voice "${voice#flite:}" -t "$text" -o "$T/raw.wav"
		$SOX "$T/raw.wav" -r 8000 -c 1 -b 16 "$out" tempo -s "$rate" pitch "$pitch" \
			silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse sinc 300-3400 norm -3
	else
		espeak-ng -v "$voice" -s "$rate" -p "$pitch" -w "$T/raw.wav" "$text"
		$SOX "$T/raw.wav" -r 8000 -c 1 -b 16 "$out" \
			silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse sinc 300-3400 norm -3
	fi
}

sil() { $SOX -n -r 8000 -c 1 -b 16 "$2" trim 0 "$1"; }

# beep HZ MS OUT: a sine with 5 ms ramps, -6 dBFS peak.
beep() {
	$SOX -n -r 8000 -c 1 -b 16 "$3" synth "$(awk "BEGIN{print $2/1000}")" sine "$1" \
		vol 0.5 fade t 0.005 0 0.005
}

# noise COLOUR DBFS SECONDS OUT (COLOUR white|pink|brown|hum50|hum60).
noise() {
	local colour=$1 db=$2 len=$3 out=$4 ref
	case $colour in
	white) ref=-12.8 ;;
	pink) ref=-14.1 ;;
	brown) ref=-4.9 ;;
	hum50 | hum60) ref=-3.0 ;;
	esac
	local vol
	vol=$(awk "BEGIN{printf \"%.6f\", 10^(($db - $ref)/20)}")
	case $colour in
	hum50) $SOX -n -r 8000 -c 1 -b 16 "$out" synth "$len" sine 50 sine 150 remix - vol "$vol" ;;
	hum60) $SOX -n -r 8000 -c 1 -b 16 "$out" synth "$len" sine 60 sine 180 remix - vol "$vol" ;;
	*) $SOX -n -r 8000 -c 1 -b 16 "$out" synth "$len" "${colour}noise" vol "$vol" ;;
	esac
}

# emit NAME LABEL PART DESC LEN GAIN NOISE NDB REVERB PIECE...
# PIECE: s:SECONDS (silence), t:FILE (a said piece), b:HZ:MS (a beep). The pieces are
# joined, cut or padded to LEN seconds, given GAIN dB, reverb (0 or a reverberance %),
# mixed with NOISE (none or a colour) at NDB dBFS, and written as µ-law through the
# telephone band (the line's noise passes the network's filters too).
emit() {
	local name=$1 label=$2 part=$3 desc=$4 len=$5 gain=$6 ncol=$7 ndb=$8 rev=$9
	shift 9
	local parts=() i=0 p
	for p in "$@"; do
		i=$((i + 1))
		case $p in
		s:*) sil "${p#s:}" "$T/p$i.wav" ;;
		t:*) cp "${p#t:}" "$T/p$i.wav" ;;
		b:*) p=${p#b:}; beep "${p%%:*}" "${p#*:}" "$T/p$i.wav" ;;
		esac
		parts+=("$T/p$i.wav")
	done
	sil "$len" "$T/pad.wav"
	parts+=("$T/pad.wav")
	local fx=(gain "$gain")
	[ "$rev" != 0 ] && fx=(reverb "$rev" 50 40 gain "$gain")
	$SOX "${parts[@]}" "$T/sig.wav" "${fx[@]}" trim 0 "$len"
	if [ "$ncol" != none ]; then
		noise "$ncol" "$ndb" "$len" "$T/n.wav"
		$SOX -m -v 1 "$T/sig.wav" -v 1 "$T/n.wav" "$T/mix.wav"
	else
		cp "$T/sig.wav" "$T/mix.wav"
	fi
	$SOX "$T/mix.wav" -r 8000 -c 1 -e u-law -b 8 "$name.wav" sinc 300-3400 trim 0 "$len"
	echo "$name.wav,$label,$part,$desc" >> labels.csv
}

# music NAME LABEL PART DESC LEN GAIN SECONDS_A_CHORD CHORD... — music on hold: plucked
# chords (notes as sox names, "C4:E4:G4"), repeated to fill LEN.
music() {
	local name=$1 label=$2 part=$3 desc=$4 len=$5 gain=$6 step=$7 c i=0 parts=()
	shift 7
	while [ "$(awk "BEGIN{print ($i * $step < $len)}")" = 1 ]; do
		for c in "$@"; do
			i=$((i + 1))
			local notes=() n
			for n in ${c//:/ }; do notes+=(pluck "$n"); done
			$SOX -n -r 8000 -c 1 -b 16 "$T/m$i.wav" synth "$step" "${notes[@]}" remix - \
				norm -6
			parts+=("$T/m$i.wav")
		done
	done
	$SOX "${parts[@]}" "$T/sig.wav" sinc 300-3400 gain "$gain" trim 0 "$len"
	$SOX "$T/sig.wav" -r 8000 -c 1 -e u-law -b 8 "$name.wav"
	echo "$name.wav,$label,$part,$desc" >> labels.csv
}

dur() { soxi -D "$1"; }
add() { awk "BEGIN{printf \"%.2f\", $*}"; }

# ---- human greetings: a short greeting, then the person waits (a few say it again) ----
human_set() {
	local part=$1; shift
	local -n voices=$1 texts=$2 rates=$3 pitches=$4 leads=$5 noises=$6
	local v k t n=0
	for v in "${!voices[@]}"; do
		for k in 0 1 2 3 4 5; do
			local voice=${voices[$v]} text=${texts[$(((v + k) % ${#texts[@]}))]}
			local rate=${rates[$(((v + 2 * k) % 3))]} pitch=${pitches[$(((v + k) % 3))]}
			local lead=${leads[$(((3 * v + k) % ${#leads[@]}))]}
			local nz=${noises[$(((v + k) % ${#noises[@]}))]}
			local gain=$(((v + k) % 3 * -4)) rev=0
			[[ $voice == flite:* ]] && rate=${FLITE_RATES[$(((v + 2 * k) % 3))]} \
				pitch=${FLITE_PITCH[$(((v + k) % 3))]}
			[ $(((v + k) % 5)) = 4 ] && rev=40
			say "$voice" "$rate" "$pitch" "$text" "$T/say.wav"
			n=$((n + 1))
			local desc="$voice rate $rate pitch $pitch; '$text' after ${lead}s; noise ${nz/:/ } dBFS; gain $gain dB"
			[ "$rev" != 0 ] && desc+="; reverb"
			desc=${desc//,/}
			if [ "$k" = 2 ]; then
				emit "${part}_human_$n" human "$part" "$desc; says it again" 4.5 "$gain" \
					"${nz%%:*}" "${nz#*:}" "$rev" "s:$lead" "t:$T/say.wav" s:2.0 "t:$T/say.wav"
			else
				emit "${part}_human_$n" human "$part" "$desc" 4.5 "$gain" "${nz%%:*}" \
					"${nz#*:}" "$rev" "s:$lead" "t:$T/say.wav"
			fi
		done
	done
}

# ---- voicemail greetings: long ones, and shorter ones ended by a beep ----
machine_set() {
	local part=$1; shift
	local -n voices=$1 long=$2 short=$3 rates=$4 pitches=$5 beeps=$6 noises=$7
	local v k n=0
	for v in "${!voices[@]}"; do
		for k in 0 1 2 3 4; do
			local voice=${voices[$v]} rate=${rates[$(((v + k) % 3))]} pitch=${pitches[$(((v + 2 * k) % 3))]}
			local lead=0.$(((v + 2 * k) % 8 + 2)) nz=${noises[$(((v + k) % ${#noises[@]}))]}
			local gain=$(((v + 2 * k) % 3 * -4)) text len bp="" desc
			[[ $voice == flite:* ]] && rate=${FLITE_RATES[$(((v + k) % 3))]} \
				pitch=${FLITE_PITCH[$(((v + 2 * k) % 3))]}
			n=$((n + 1))
			if [ $((k % 2)) = 0 ]; then
				text=${short[$(((v + k / 2) % ${#short[@]}))]}
				local b=${beeps[$(((2 * v + k / 2) % ${#beeps[@]}))]}
				local gap=0.$(((v + k) % 5 + 1))
				say "$voice" "$rate" "$pitch" "$text" "$T/say.wav"
				len=$(add "$lead + $(dur "$T/say.wav") + $gap + ${b#*:}/1000 + 0.8")
				len=$(awk "BEGIN{print ($len > 8 ? 8 : $len)}")
				desc="$voice rate $rate pitch $pitch; '$text' after ${lead}s; beep ${b%%:*} Hz ${b#*:} ms after ${gap}s; noise ${nz/:/ } dBFS; gain $gain dB"
				emit "${part}_machine_$n" machine "$part" "${desc//,/}" "$len" "$gain" \
					"${nz%%:*}" "${nz#*:}" 0 "s:$lead" "t:$T/say.wav" "s:$gap" "b:$b"
			else
				text=${long[$(((v + k / 2) % ${#long[@]}))]}
				say "$voice" "$rate" "$pitch" "$text" "$T/say.wav"
				desc="$voice rate $rate pitch $pitch; '$text' after ${lead}s; no beep; noise ${nz/:/ } dBFS; gain $gain dB"
				emit "${part}_machine_$n" machine "$part" "${desc//,/}" 6 "$gain" \
					"${nz%%:*}" "${nz#*:}" 0 "s:$lead" "t:$T/say.wav"
			fi
		done
	done
}

# ======================================== tune ========================================
FLITE_RATES=(0.9 1.0 1.15)
FLITE_PITCH=(-100 0 150)
TV=(en-us+m1 en-us+f2 en-gb+m3 flite:kal flite:slt en-gb+f3)
TH=("Hello?" "Yes?" "Hello, this is Anna speaking." "Hi, who's calling?"
    "Hello, Smith residence." "Yeah, hello?" "Good morning." "Speaking.")
TR=(150 175 200)
TP=(30 50 70)
TL=(0.2 0.4 0.6 0.9)
TN=(none:0 white:-50 pink:-45 white:-40)
human_set tune TV TH TR TP TL TN

TML=("Hi, you've reached John Smith. I can't take your call right now, please leave a message after the tone."
     "The person you are calling is not available. Please leave a message."
     "Hello, this is Sarah. Sorry I missed your call, leave your name and number and I'll call you back."
     "Thank you for calling. Nobody is available to take your call. Please record your message after the beep.")
TMS=("Please leave a message after the tone." "Hi, this is Tom, leave a message."
     "You have reached the voicemail of Peter Brown.")
TB=(440:400 850:250 1000:500 1400:300 600:800 1100:1000)
machine_set tune TV TML TMS TR TP TB TN

emit tune_silence_1 silence tune "digital silence" 5 0 none 0 0 s:5
emit tune_silence_2 silence tune "hiss at -65 dBFS" 5 0 white -65 0 s:5
emit tune_silence_3 silence tune "pink hiss at -58 dBFS" 5 0 pink -58 0 s:5
emit tune_noise_1 noise tune "white noise at -40 dBFS" 5 0 white -40 0 s:5
emit tune_noise_2 noise tune "pink noise at -35 dBFS" 5 0 pink -35 0 s:5
emit tune_noise_3 noise tune "brown noise at -30 dBFS" 5 0 brown -30 0 s:5
emit tune_noise_4 noise tune "50 Hz hum at -35 dBFS" 5 0 hum50 -35 0 s:5
emit tune_noise_5 noise tune "white noise at -30 dBFS" 5 0 white -30 0 s:5
music tune_music_1 music tune "plucked chords 0.5 s each" 5 -6 0.5 C4:E4:G4 A3:C4:E4 F3:A3:C4 G3:B3:D4
music tune_music_2 music tune "plucked chords 0.3 s each" 5 -10 0.3 D4:F#4:A4 B3:D4:F#4 G3:B3:D4 A3:C#4:E4
music tune_music_3 music tune "plucked notes 0.25 s each" 5 -3 0.25 E4 G4 A4 B4 D5 B4 A4 G4

# ====================================== heldout =======================================
# Other voices, texts, noise colours and levels, beep frequencies and lengths.
FLITE_RATES=(0.85 1.05 1.2)
FLITE_PITCH=(-200 100 250)
HV=(en-gb-scotland+f4 en-029+m5 flite:rms flite:awb en-us+m7)
HH=("Hi there?" "Hello, Mark here." "Yes, hello?" "Who is this?" "Hello, this is David."
    "Hello?" "Good afternoon, Jones speaking." "Hey.")
HR=(140 165 190)
HP=(40 60 80)
HL=(0.3 0.5 0.8 1.0)
HN=(none:0 brown:-40 pink:-38 white:-44)
human_set heldout HV HH HR HP HL HN

HML=("You have reached the voicemail box of extension two four five. Please leave a message."
     "Hi, it's Mike. I'm away from the phone at the moment, leave a message and I'll get back to you."
     "Your call has been forwarded to an automated voice messaging system. The person is not available."
     "Welcome to the mailbox of Jennifer Lopez. Please speak after the tone.")
HMS=("Hey, this is Kate. Leave a message." "Not here right now, please leave a message."
     "Please record your message at the tone.")
HB=(500:300 700:600 950:450 1200:250 1800:700 2000:400 400:1200)
machine_set heldout HV HML HMS HR HP HB HN

emit heldout_silence_1 silence heldout "digital silence" 5 0 none 0 0 s:5
emit heldout_silence_2 silence heldout "white hiss at -60 dBFS" 5 0 white -60 0 s:5
emit heldout_noise_1 noise heldout "pink noise at -42 dBFS" 5 0 pink -42 0 s:5
emit heldout_noise_2 noise heldout "brown noise at -38 dBFS" 5 0 brown -38 0 s:5
emit heldout_noise_3 noise heldout "60 Hz hum at -30 dBFS" 5 0 hum60 -30 0 s:5
emit heldout_noise_4 noise heldout "white noise at -35 dBFS" 5 0 white -35 0 s:5
music heldout_music_1 music heldout "plucked chords 0.6 s each" 5 -8 0.6 D4:F4:A4 C4:E4:G4 Bb3:D4:F4 A3:C#4:E4
music heldout_music_2 music heldout "plucked chords 0.4 s each" 5 -4 0.4 G3:B3:D4 E3:G3:B3 C4:E4:G4 D4:F#4:A4
music heldout_music_3 music heldout "plucked notes 0.2 s each" 5 -12 0.2 C5 B4 A4 G4 F4 E4 D4 C4

echo "$(($(wc -l < labels.csv) - 1)) files, $(du -ch ./*.wav | tail -1 | cut -f1)"
