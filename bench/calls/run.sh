#!/usr/bin/env bash
# The calls bench: sipp calls a real cccd on this machine (inbound calls, so one account's
# API rate limit does not apply) and this prints
#   - the highest number of concurrent answered calls (each answered into a menu that plays
#     a prompt, receives key 1 over RFC 4733, then plays a hold prompt) held for HOLD seconds
#     with no lost call, stepping up through STEPS;
#   - at each step: cccd's RTP send jitter p50/p99 over every call and the packets it never
#     sent (bench/calls/peer.c: the calls' media end, which answers cccd's audio, presses
#     the key and reads the kernel's receive timestamps), the first prompt packet after the
#     200 OK (bench/calls/probe.mjs on a few extra calls), cccd's CPU per call (µs of CPU
#     per call-second, /proc), resident memory per call (/proc VmRSS), and what the load
#     generator (sipp + peer) and the whole machine used;
#   - calls per second set up and torn down with no failure, stepping up through CPS_STEPS,
#     each rate held CPS_SECONDS (60: longer than a call's SIP transactions live, so the
#     rate is one cccd sustains), with the INVITEs sipp had to resend, the datagrams
#     dropped at cccd's SIP socket, and the CPU µs per call set-up, of cccd and of its
#     control loop;
#   - the same set-up cost beside calls held (HELD_STEPS, 100 and 2000): HELD_RATE calls
#     a second for CPS_SECONDS while N answered calls sit in their IVR; the held calls' own
#     CPU, measured for 5 s before, is taken out. Flat figures mean the loop's cost per
#     set-up does not grow with the calls and timers it carries;
#   - the floor (bench/calls/floor.c bare: sendmmsg/recvmmsg on one timer) at the same
#     number of calls, and cccd's figures as a share of it.
# sipp does the signalling only: every call's SDP names the peer's port, so the packets are
# moved by a C program with recvmmsg/sendmmsg (sipp -rtp_echo, one recvfrom and one sendto
# per packet, cost as much CPU as cccd itself and was the ceiling of earlier runs).
# Prints figures; asserts nothing. Every step is bounded in time and the run stops itself
# (at the first step that loses a call, or after the last step).
#
#   QUICK=1 bench/calls/run.sh           2-3 minutes: small steps, 10 s holds
#   bench/calls/run.sh                   the full run (60 s holds, 1000..3200 calls; 60 s
#                                        rates 200..1000/s, then 300/s beside 100 and 2000
#                                        held calls; ~30 min)
#   STEPS="1000 2000" HOLD=30 CPS_STEPS="300 400" bench/calls/run.sh
#   STEPS= CPS_STEPS="300 500" HELD_STEPS="100 2000" HELD_RATE=300 ...   the set-up figures only
#   RT_PRIORITY=0 ...                    cccd's media workers without real-time priority
#   CODEC=g722|opus|pcma ...             the calls in that codec (default pcmu): sipp offers
#                                        it alone, cccd lists it first in [media] codecs
#   KEEP=1 ...                           keep the work folder (logs, database) for a look
#   SIP_TRACE_DAYS=0 ...                 SIP trace capture off ([records] sip_trace_days;
#                                        default 7: on, as in production)
#   LIBRE_TIMERS=list ...                libre's own timers on its sorted list, not on cccd's
#                                        wheel ([sip] libre_timers): the before of §Set-up rate
#   PLOT_DIR=DIR ...                     where the figures (*.dat) and their curves (*.png,
#                                        gnuplot: bench/calls/plot.sh) go; default docs/img/
#                                        bench-calls for a full run (the committed curves),
#                                        build/release/bench/plots for QUICK=1
#   PUSH=0 ...                           no CDR push (default: every call's record is pushed to
#                                        an nginx on loopback, as a receiver would take it; the
#                                        rate steps count what arrived)
#   SCRAPE=1 ...                         scrape cccd's /metrics every second through the run,
#                                        as Prometheus would (run once with, once without, and
#                                        compare: docs/benchmarks.md); prints the scrapes' count,
#                                        size and time at the end
#
# Ports: cccd SIP 127.0.0.1:17060 (UDP), API 17080, admin (/metrics) 17090; sipp 17061-17062 (its unused media port
# 17100), the held steps' second sipp 17063 (17400-17403); peer 17200-17201; probe calls 17900-17949; cccd RTP 30000-39999 (5000 calls).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

if [ -n "${QUICK:-}" ]; then
	STEPS=${STEPS-"20 50 100"}
	HOLD=${HOLD:-10}
	CPS_STEPS=${CPS_STEPS:-"50 100 200"}
	CPS_SECONDS=${CPS_SECONDS:-4}
	HELD_STEPS=${HELD_STEPS-"100 400"}
	HELD_RATE=${HELD_RATE:-100}
	PLOT_DIR=${PLOT_DIR:-$root/build/release/bench/plots}
else
	STEPS=${STEPS-"1000 2000 2400 2800 3200"}
	HOLD=${HOLD:-60}
	CPS_STEPS=${CPS_STEPS:-"200 300 400 500 600 800 1000"}
	CPS_SECONDS=${CPS_SECONDS:-60}
	HELD_STEPS=${HELD_STEPS-"100 2000"}
	HELD_RATE=${HELD_RATE:-300}
	PLOT_DIR=${PLOT_DIR:-$root/docs/img/bench-calls}
fi
PLOT_DIR=$(realpath -m "$PLOT_DIR")   # a relative one is from the tree's top
LIBRE_TIMERS=${LIBRE_TIMERS:-wheel}
# A rate is only sustained once it has run longer than a call's SIP transactions live (32 s
# over UDP after the last response: RFC 3261 Timer J, and RFC 6026 for an answered INVITE);
# until then cccd carries fewer of them than it will. Steps shorter than that flatter the
# rate, and a step also waits for the previous one's transactions to end (CPS_REST).
CPS_REST=${CPS_REST:-$(( CPS_SECONDS > 32 ? 34 : 2 ))}
RAMP=${RAMP:-200}              # calls per second while a step fills up
RT_PRIORITY=${RT_PRIORITY:-10} # [media] rt_priority of cccd (0: normal scheduling)
PROBES=${PROBES:-4}
NUMBER=008675517000000
CODEC=${CODEC:-pcmu}
SIP_TRACE_DAYS=${SIP_TRACE_DAYS:-7}
case $CODEC in
	pcmu) CODEC_PT=0 CODEC_MAP=PCMU/8000 TEV_CLOCK=8000 CODEC_LIST="pcmu, pcma" ;;
	pcma) CODEC_PT=8 CODEC_MAP=PCMA/8000 TEV_CLOCK=8000 CODEC_LIST="pcma, pcmu" ;;
	g722) CODEC_PT=9 CODEC_MAP=G722/8000 TEV_CLOCK=8000 CODEC_LIST="g722, pcmu, pcma" ;;
	opus) CODEC_PT=96 CODEC_MAP=opus/48000/2 TEV_CLOCK=48000 CODEC_LIST="opus, pcmu, pcma" ;;
	*) echo "CODEC must be pcmu, pcma, g722 or opus"; exit 1 ;;
esac

command -v sipp >/dev/null || { echo "sipp (Debian sip-tester) is not installed"; exit 1; }
make -j2 >/dev/null
BUILD_ONLY=1 bash bench/calls/floor.sh   # build/release/bench/floor and peer

work=$(mktemp -d /tmp/cccd-bench-calls-XXXXXX)
cccd_pid="" peer_pid="" scrape_pid="" sink_pid=""
cleanup() {
	[ -n "$scrape_pid" ] && kill "$scrape_pid" 2>/dev/null && wait "$scrape_pid" 2>/dev/null || true
	[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null || true
	[ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null && wait "$peer_pid" 2>/dev/null || true
	[ -n "$cccd_pid" ] && kill "$cccd_pid" 2>/dev/null && wait "$cccd_pid" 2>/dev/null || true
	if [ -n "${KEEP:-}" ]; then echo "kept $work (cccd.log, sipp-*.log, peer.out)"; else rm -rf "$work"; fi
}
trap cleanup EXIT
keep_log() { [ -z "${cccd_pid:-}" ] || kill -0 "$cccd_pid" 2>/dev/null || { echo "cccd exited:"; tail -20 "$work/cccd.log"; }; }

# Prompts: a 2 s menu prompt and a 10 s hold prompt (played up to 10 times).
sox -n -r 8000 -c 1 -b 16 "$work/menu.wav" synth 2 sine 440 vol 0.3
sox -n -r 8000 -c 1 -b 16 "$work/hold.wav" synth 10 sine 300-900 vol 0.3
cat >"$work/30.json" <<EOF
{"ivrId": 30, "name": "bench", "type": "inbound", "start": "s", "nodes": [
 {"id": "s", "type": "start", "next": "m"},
 {"id": "m", "type": "menu", "params": {"prompt": {"file": "menu.wav"}, "timeoutMs": 30000,
  "retries": 9, "keys": {"1": {"label": "hold", "next": "h"}}}, "onTimeout": "h", "onInvalid": "h"},
 {"id": "h", "type": "prompt", "params": {"file": "hold.wav", "plays": 10, "interruptible": false},
  "next": "e"},
 {"id": "e", "type": "hangup"}]}
EOF
cat >"$work/cccd.conf" <<EOF
[log]
level = warn
[api]
listen = 127.0.0.1:17080
[admin]
listen = 127.0.0.1:17090
[store]
path = $work/cccd.db
synchronous = normal
[sip]
listen = udp 127.0.0.1:17060
inbound_cps = 0
libre_timers = $LIBRE_TIMERS
# the callers (sipp) are on loopback and there is no trunk: let them call
inbound_from = 127.0.0.1
[media]
rtp_ip = 127.0.0.1
port_min = 30000
port_max = 39999
rtp_timeout_ms = 20000
codecs = $CODEC_LIST
rt_priority = $RT_PRIORITY
recording_dir = $work/rec
[session]
stop_wait = 2
[policy]
locations = $root/data/blind-areas
[records]
sip_trace_days = $SIP_TRACE_DAYS
EOF

cd "$work"
"$root/build/release/ccc" admin --config cccd.conf tenant-add --sdkappid 1400017000 \
	--ivr "30:inbound:$work/30.json" --rules demo >/dev/null
"$root/build/release/ccc" admin --config cccd.conf number-set --sdkappid 1400017000 \
	--number "$NUMBER" --outbound no --inbound-ivr 30 >/dev/null
# The records' push (PUSH=1, the default): nginx on loopback takes each POST with a 200 and
# logs it, so a rate step counts the records that reached a receiver, as in production.
if [ "${PUSH:-1}" != 0 ]; then
	mkdir -p "$work/sink" && chmod 755 "$work" "$work/sink"
	cat >"$work/sink/nginx.conf" <<-CONF
		worker_processes 1;
		daemon off;
		pid $work/sink/nginx.pid;
		error_log $work/sink/error.log warn;
		events { worker_connections 1024; }
		http {
			access_log $work/sink/access.log;
			client_body_buffer_size 1m;
			client_body_temp_path $work/sink;
			keepalive_requests 1000000;
			server {
				listen 127.0.0.1:17081;
				location / { default_type application/json; return 200 '{"ErrCode":0,"ErrMsg":"ok"}'; }
			}
		}
	CONF
	touch "$work/sink/access.log"
	/usr/sbin/nginx -c "$work/sink/nginx.conf" -p "$work/sink" 2>"$work/sink/stderr" &
	sink_pid=$!
	"$root/build/release/ccc" push config --config cccd.conf --sdkappid 1400017000 \
		--url http://127.0.0.1:17081/cdr --events cdr >/dev/null
fi
pushed() { if [ -n "$sink_pid" ]; then grep -c 'action=cdr' "$work/sink/access.log" || true; else echo 0; fi; }
# Each call needs two sockets in cccd (RTP, RTCP); cccd raises its own soft limit to the hard
# one, and sipp is told to use up to 65000.
"$root/build/release/cccd" --config cccd.conf >"$work/cccd.log" 2>&1 &
cccd_pid=$!
# The calls' media end; it outlives every step (bounded by the longest run that fits).
"$root/build/release/bench/peer" 17200 7200 "$TEV_CLOCK" >"$work/peer.out" 2>"$work/peer.err" &
peer_pid=$!
for _ in $(seq 1 100); do
	(exec 3<>/dev/tcp/127.0.0.1/17080) 2>/dev/null && break
	sleep 0.1
done

# SCRAPE=1: one GET /metrics a second, its time and size noted (bounded by the run).
if [ -n "${SCRAPE:-}" ] && [ "$SCRAPE" != 0 ]; then
	( while kill -0 "$cccd_pid" 2>/dev/null; do
		curl -s -o /dev/null -w '%{time_total} %{size_download}\n' --max-time 5 \
			http://127.0.0.1:17090/metrics >>"$work/scrapes" || true
		sleep 1
	done ) &
	scrape_pid=$!
fi

ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$cccd_pid/status"; }
keys_1() { sqlite3 -readonly "$work/cccd.db" "SELECT count(DISTINCT session_id) FROM key_presses WHERE key = '1'" 2>/dev/null || echo 0; }
idle_ticks() { awk '/^cpu / {print $5 + $6}' /proc/stat; }
hz=$(getconf CLK_TCK)
now() { date +%s.%N; }
peer_line() { # asks the peer for its window's figures; prints its line
	local before
	before=$(wc -l <"$work/peer.out")
	kill -USR2 "$peer_pid"
	for _ in $(seq 1 50); do
		[ "$(wc -l <"$work/peer.out")" -gt "$before" ] && break
		sleep 0.1
	done
	tail -1 "$work/peer.out"
}

# Datagrams the kernel dropped at cccd's SIP socket (127.0.0.1:17060 = 0100007F:42A4), its
# receive queue full: the control loop fell behind.
sip_drops() { awk '$2 == "0100007F:42A4" {print $NF; found = 1} END {if (!found) print 0}' /proc/net/udp; }

# One sipp run: prints "successful failed INVITE-retransmissions" from its final screen.
# SIPP_PORT, SIPP_MEDIA_PORT: its SIP port and its unused media ports (it binds a few above
# the one given), for a second sipp beside the first (17063, 17400).
sipp_run() { # scenario calls rate hold_ms timeout_s
	local scen=$1 calls=$2 rate=$3 hold=$4 limit=$5 port=${SIPP_PORT:-17061} log
	local mport=${SIPP_MEDIA_PORT:-17100}
	log="$work/sipp-$RANDOM.log"
	timeout "$limit" sipp 127.0.0.1:17060 -sf "$root/bench/calls/$scen" -s "$NUMBER" \
		-i 127.0.0.1 -p "$port" -mi 127.0.0.1 -mp "$mport" -key peer_port 17200 \
		-key codec_pt "$CODEC_PT" -key codec_map "$CODEC_MAP" -key tev_clock "$TEV_CLOCK" \
		-m "$calls" -l "$calls" -r "$rate" -d "$hold" -nostdin -timeout "${limit}s" \
		-trace_screen -screen_file "$log" -max_socket 65000 >/dev/null 2>&1 || true
	awk -F'|' '/Successful call/ {gsub(/ /,"",$3); s=$3} /Failed call/ {gsub(/ /,"",$3); f=$3}
		$1 ~ /^ +INVITE -+>/ {split($1, w, " +"); r=w[5]}
		END {print (s==""?0:s), (f==""?0:f), (r==""?0:r)}' "$log" 2>/dev/null || echo "0 $calls 0"
}

mkdir -p "$PLOT_DIR"
echo "# calls jitter_p50_ms jitter_p99_ms cpu_us_per_call_second" >"$PLOT_DIR/concurrency.dat"
echo "# rate answered failed invites_resent cpu_us_per_setup loop_us_per_setup" >"$PLOT_DIR/setup.dat"

keep_log
echo "== calls bench on $(nproc) cores (cccd pid $cccd_pid; codec $CODEC; hold ${HOLD}s; steps: $STEPS; SIP trace capture $([ "$SIP_TRACE_DAYS" = 0 ] && echo off || echo on); /metrics scraped every second: $([ -n "$scrape_pid" ] && echo yes || echo no))"
best=0 best_line=""
base_rss=$(rss_kib)
for n in $STEPS; do
	[ "$n" -le 4900 ] || { echo "  step $n: above the RTP port range; stopping"; break; }
	ramp_s=$(( (n + RAMP - 1) / RAMP ))
	limit=$(( ramp_s + HOLD + 30 ))
	window=$(( HOLD / 2 > 3 ? HOLD / 2 : 3 ))
	[ $(( ramp_s + 2 + window )) -lt "$HOLD" ] || { echo "  step $n: the ramp (${ramp_s}s) leaves no window in a ${HOLD}s hold; raise RAMP or HOLD"; break; }
	sipp_out="$work/step-$n.out"
	( sipp_run uac_hold.xml "$n" "$RAMP" $((HOLD * 1000)) "$limit" >"$sipp_out" ) &
	sipp_job=$!
	k0=$(keys_1)
	sleep $(( ramp_s + 2 ))
	sipp_pid=$(pgrep -n -x sipp || echo 0)
	kill -USR1 "$peer_pid"
	c0=$(ticks_of "$cccd_pid") s0=$(ticks_of "$sipp_pid") i0=$(idle_ticks) t0=$(now)
	probe=$(cd "$root" && timeout $((window + 20)) node bench/calls/probe.mjs --sip 127.0.0.1:17060 \
		--number "$NUMBER" --calls "$PROBES" --seconds "$window" \
		--rtp-base 17900 2>/dev/null || echo '{}')
	rss=$(rss_kib)
	c1=$(ticks_of "$cccd_pid") s1=$(ticks_of "$sipp_pid") i1=$(idle_ticks) t1=$(now)
	peer=$(peer_line)
	wait "$sipp_job" || true
	read -r ok failed _ <"$sipp_out"
	plost=$(awk '{for (i = 1; i < NF; i++) if ($i == "lost") print $(i + 1)}' <<<"$peer")
	# Records are written as calls end, through the store's queue: wait for the step's last
	# ones (at most 15 s) before counting what was heard.
	for _ in $(seq 1 30); do
		keys=$(( $(keys_1) - k0 ))
		[ "$keys" -ge "$n" ] && break
		sleep 0.5
	done
	line=$(awk -v n="$n" -v ok="$ok" -v f="$failed" -v keys="$keys" -v c0="$c0" -v c1="$c1" -v s0="$s0" \
		-v s1="$s1" -v i0="$i0" -v i1="$i1" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
		-v cores="$(nproc)" -v rss="$rss" -v base="$base_rss" -v p="$probe" -v q="$peer" '
	function field(s, k,   r) { if (!match(s, k "\"?:? *[0-9.]+")) return ""
		r = substr(s, RSTART + length(k), RLENGTH - length(k)); gsub(/[^0-9.]/, "", r)
		return r }
	BEGIN {
		cpu = (c1 - c0) / hz; dt = t1 - t0; calls = n + 0
		us = dt > 0 ? 1e6 * cpu / dt / calls : 0
		gen = (s1 - s0) / hz / (dt > 0 ? dt : 1) * 100 + field(q, "peer_cpu_pct")
		idle = (i1 - i0) / hz / (dt > 0 ? dt : 1) / cores * 100
		fp = field(p, "first_packet_ms_max")
		printf "calls %5d  answered %5d  lost %4d  key 1 heard %5d  cccd CPU %5.1f%% of a core  %6.1f us CPU per call-second  RSS %5.1f KiB per call  jitter p50 %s ms p99 %s ms (%s streams, %s packets lost, %s of them dropped by the peer)  first packet <= %s ms  load generator %.0f%% of a core  machine idle %.0f%%",
			calls, ok, f, keys, 100 * cpu / (dt > 0 ? dt : 1), us, (rss - base) / calls,
			field(q, "jitter_p50_ms"), field(q, "jitter_p99_ms"), field(q, "peer streams"),
			field(q, "lost"), field(q, "dropped_by_peer"), fp == "" ? "?" : sprintf("%.1f", fp), gen, idle }')
	echo "  $line"
	sed -nE 's/^calls +([0-9]+) .* ([0-9.]+) us CPU per call-second .* jitter p50 ([0-9.]+) ms p99 ([0-9.]+) ms .*/\1 \3 \4 \2/p' \
		<<<"$line" >>"$PLOT_DIR/concurrency.dat"
	if [ "$failed" != "0" ] || [ "$ok" != "$n" ] || [ "$keys" -lt "$n" ] || [ "${plost:-1}" != "0" ]; then
		echo "  step $n lost calls, keys or packets: stopping here"
		break
	fi
	best=$n best_line=$line
	sleep 3   # let the previous step's calls end
done

loop_ticks() { awk '{print $14 + $15}' "/proc/$cccd_pid/task/$cccd_pid/stat"; }

echo "== calls per second set up and torn down (${CPS_SECONDS}s each, ${CPS_REST}s apart)"
best_cps=0
sleep "$CPS_REST"   # the concurrency steps' transactions end first
for r in $CPS_STEPS; do
	calls=$(( r * CPS_SECONDS ))
	l0=$(loop_ticks) c0=$(ticks_of "$cccd_pid") t0=$(now)
	d0=$(sip_drops) p0=$(pushed)
	read -r ok failed retrans < <(sipp_run uac_short.xml "$calls" "$r" 100 $(( CPS_SECONDS + 40 )))
	l1=$(loop_ticks) c1=$(ticks_of "$cccd_pid") t1=$(now)
	# the records are pushed as the calls end: wait for the step's last ones (at most 15 s)
	for _ in $(seq 1 30); do
		[ -z "$sink_pid" ] || [ $(( $(pushed) - p0 )) -ge "$ok" ] && break
		sleep 0.5
	done
	pushes=""
	[ -z "$sink_pid" ] || pushes=", $(( $(pushed) - p0 )) records pushed"
	echo "  rate $r/s: $ok answered and hung up, $failed failed, $retrans INVITEs resent, $(( $(sip_drops) - d0 )) dropped at cccd's SIP socket$pushes  $(awk -v l0="$l0" -v l1="$l1" \
		-v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" -v n="$calls" 'BEGIN {
		dt = t1 - t0; printf "(cccd %.0f%% of a core, its control loop %.0f%%; %.0f us of CPU per call, %.0f us of it on the loop)",
		100 * (c1 - c0) / hz / dt, 100 * (l1 - l0) / hz / dt, 1e6 * (c1 - c0) / hz / n, 1e6 * (l1 - l0) / hz / n }')"
	awk -v r="$r" -v ok="$ok" -v f="$failed" -v re="$retrans" -v l0="$l0" -v l1="$l1" -v c0="$c0" \
		-v c1="$c1" -v hz="$hz" -v n="$calls" 'BEGIN { printf "%d %d %d %d %.0f %.0f\n",
		r, ok, f, re, 1e6 * (c1 - c0) / hz / n, 1e6 * (l1 - l0) / hz / n }' >>"$PLOT_DIR/setup.dat"
	[ "$failed" = "0" ] && [ "$ok" = "$calls" ] || { echo "  rate $r/s failed: stopping here"; break; }
	best_cps=$r
	sleep "$CPS_REST"
done

# The set-up cost beside N held calls: the held calls' own CPU (media workers, RTCP, their
# timers) is measured alone for 5 s first and taken out, so what is left is the set-ups'.
[ -z "$HELD_STEPS" ] || echo "== set-up cost beside calls held (${HELD_RATE}/s for ${CPS_SECONDS}s)"
for n in $HELD_STEPS; do
	[ "$n" -le 4000 ] || { echo "  held $n: above the RTP port range with the set-ups; skipped"; continue; }
	ramp_s=$(( (n + RAMP - 1) / RAMP ))
	hold_s=$(( ramp_s + 2 + 5 + CPS_SECONDS + 15 ))
	held_out="$work/held-$n.out"
	( sipp_run uac_hold.xml "$n" "$RAMP" $(( hold_s * 1000 )) $(( hold_s + ramp_s + 30 )) >"$held_out" ) &
	held_job=$!
	sleep $(( ramp_s + 2 ))
	l0=$(loop_ticks) c0=$(ticks_of "$cccd_pid") t0=$(now)
	sleep 5
	l1=$(loop_ticks) c1=$(ticks_of "$cccd_pid") t1=$(now)
	calls=$(( HELD_RATE * CPS_SECONDS ))
	read -r ok failed retrans < <(SIPP_PORT=17063 SIPP_MEDIA_PORT=17400 sipp_run uac_short.xml "$calls" "$HELD_RATE" 100 $(( CPS_SECONDS + 40 )))
	l2=$(loop_ticks) c2=$(ticks_of "$cccd_pid") t2=$(now)
	wait "$held_job" || true
	read -r hok hfailed _ <"$held_out"
	echo "  held $n ($hok answered, $hfailed failed): $ok set up, $failed failed, $retrans INVITEs resent  $(awk \
		-v l0="$l0" -v l1="$l1" -v l2="$l2" -v c0="$c0" -v c1="$c1" -v c2="$c2" -v t0="$t0" \
		-v t1="$t1" -v t2="$t2" -v hz="$hz" -v n="$calls" 'BEGIN {
		lh = (l1 - l0) / hz / (t1 - t0); ch = (c1 - c0) / hz / (t1 - t0); dt = t2 - t1
		printf "(held alone: cccd %.0f%% of a core, loop %.0f%%; %.0f us of CPU per set-up, %.0f us of it on the loop)",
		100 * ch, 100 * lh, 1e6 * ((c2 - c1) / hz - ch * dt) / n, 1e6 * ((l2 - l1) / hz - lh * dt) / n }')"
	sleep "$CPS_REST"
done

# One thread moves both ends of every call: above about 1000 calls it needs more than the
# one core it has, so the floor is measured at most there and its cost per packet scales.
floor_n=$(( best > 1000 ? 1000 : best > 0 ? best : 100 ))
echo "== floor at $floor_n calls (bare sendmmsg/recvmmsg loop, one timer, both ends of each call)"
floor_line=$("$root/build/release/bench/floor" bare "$floor_n" 5 2>/dev/null | head -1 || true)
echo "  $floor_line"

echo "== summary"
echo "  concurrent answered calls held ${HOLD}s with no loss: $best (highest step tried: ${STEPS##* })"
echo "  at that load: ${best_line:-none}"
echo "  calls per second set up and torn down with no failure: $best_cps"
awk -v a="$best_line" -v b="$floor_line" 'BEGIN {
	if (match(a, /[0-9.]+ us CPU per call-second/)) ca = substr(a, RSTART, RLENGTH) + 0
	if (match(b, /[0-9.]+ us CPU per call-second/)) cb = substr(b, RSTART, RLENGTH) + 0
	if (ca && cb) printf "  cccd CPU per call is %.2fx the floor'"'"'s (the floor moves both ends of each call)\n", ca / cb
	if (match(b, /fits [0-9]+ calls/)) { fits = substr(b, RSTART + 5, RLENGTH - 11) + 0
		printf "  the floor fits %d calls on these cores; 70%% of it is %d\n", fits, 0.7 * fits } }'
echo "  the load generator (sipp + peer) shares the same $(nproc) cores; see docs/benchmarks.md"
bash "$root/bench/calls/plot.sh" "$PLOT_DIR"
if [ -n "$scrape_pid" ] && [ -s "$work/scrapes" ]; then
	awk '{n++; t += $1; if ($1 > m) m = $1; b = $2} END {
		printf "  /metrics scraped %d times: %.2f ms on average, %.2f ms at most, %d bytes\n",
			n, 1000 * t / n, 1000 * m, b }' "$work/scrapes"
fi
