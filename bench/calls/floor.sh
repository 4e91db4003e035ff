#!/usr/bin/env bash
# The floor of the calls bench: what the packets of N full-duplex G.711 calls cost on this
# machine, bare (a loop that only moves the packets: sendmmsg/recvmmsg, one timer) and
# through cccd's media engine (N streams playing a prompt to a peer that talks back).
# Prints figures; asserts nothing.
#
#   bench/calls/floor.sh                 100 and 400 calls, 5 s each
#   CALLS="50 200" SECONDS_EACH=3 bench/calls/floor.sh
#   BUILD_ONLY=1 bench/calls/floor.sh    only builds build/release/bench/floor and peer (run.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."

CALLS=${CALLS:-"100 400"}
SECONDS_EACH=${SECONDS_EACH:-5}

make -j2 >/dev/null
out=build/release/bench
mkdir -p "$out"
# Makefile-free: the one C file, linked with the release library for the media mode.
cc -std=c17 -O2 -D_GNU_SOURCE -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6 -Isrc \
	$(pkg-config --cflags libre sndfile) -o "$out/floor" bench/calls/floor.c \
	build/release/libcccd.a \
	$(pkg-config --libs libre libmicrohttpd jansson sqlite3 libcurl openssl spandsp sndfile speexdsp opus) \
	-lflite_cmu_us_kal -lflite_usenglish -lflite_cmulex -lflite -lm -pthread
# The media end of run.sh's sipp calls: no library at all.
cc -std=c17 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$out/peer" bench/calls/peer.c
[ -z "${BUILD_ONLY:-}" ] || exit 0

echo "== floor: bare loop, both ends of every call in one process ($(nproc) cores)"
for n in $CALLS; do
	"$out/floor" bare "$n" "$SECONDS_EACH"
done
echo "== media engine: streams against a peer thread"
for n in $CALLS; do
	"$out/floor" media "$n" "$SECONDS_EACH" 2>/dev/null
done
