#!/usr/bin/env bash
# Draws the calls bench's curves from the figures bench/calls/run.sh wrote into DIR:
#   concurrency.dat (calls, jitter p50 and p99 in ms, cccd µs of CPU per call-second)
#     → jitter.png and cpu.png, against concurrent calls;
#   setup.dat (calls/s, answered, failed, INVITEs resent, µs of CPU per set-up, of it on
#     the control loop) → setup.png: failures and CPU per set-up against the set-up rate.
# A file with no rows draws nothing. Needs gnuplot (Debian gnuplot-nox; scripts/install-deps.sh).
#
#   bench/calls/plot.sh DIR
set -euo pipefail
dir=${1:?usage: plot.sh DIR}
command -v gnuplot >/dev/null || { echo "  no gnuplot (Debian gnuplot-nox): no curves drawn"; exit 0; }
term='set terminal pngcairo size 800,480 font "sans,10"; set grid; set key left top'
if [ -s "$dir/concurrency.dat" ]; then
	gnuplot -e "$term; set output '$dir/jitter.png';
		set title 'cccd RTP send jitter against concurrent calls';
		set xlabel 'concurrent answered calls'; set ylabel 'jitter (ms)'; set yrange [0:*];
		plot '$dir/concurrency.dat' using 1:2 with linespoints title 'p50',
		     '' using 1:3 with linespoints title 'p99'"
	gnuplot -e "$term; set output '$dir/cpu.png';
		set title 'cccd CPU per call against concurrent calls';
		set xlabel 'concurrent answered calls'; set ylabel 'µs of CPU per call-second';
		set yrange [0:*];
		plot '$dir/concurrency.dat' using 1:4 with linespoints title 'cccd'"
fi
if [ -s "$dir/setup.dat" ]; then
	gnuplot -e "$term; set output '$dir/setup.png';
		set title 'calls set up and torn down: failures and CPU against the rate';
		set xlabel 'calls per second'; set ylabel 'failed calls'; set yrange [0:*];
		set y2label 'µs of CPU per set-up'; set y2range [0:*]; set y2tics; set ytics nomirror;
		plot '$dir/setup.dat' using 1:3 with linespoints title 'failed calls',
		     '' using 1:5 axes x1y2 with linespoints title 'cccd CPU per set-up',
		     '' using 1:6 axes x1y2 with linespoints title 'of it on the control loop'"
fi
ls "$dir"/*.png 2>/dev/null | sed 's/^/  curve: /' || true
