/* rtcp: the reception report blocks of a peer's RTCP — what the peer says of the stream
 * cccd sends it (loss, jitter, the LSR/DLSR pair that gives the round trip). Pure, fuzzed
 * with the other RTP parsers (fuzz/fuzz_rtp.c). */
#include <errno.h>
#include "media/media_int.h"

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads one 24-byte report block (RFC 3550 6.4.1). */
static void block_read(const uint8_t *p, struct media_rtcp_block *b)
{
	uint32_t w = rd32(p + 4);

	b->ssrc = rd32(p);
	b->fraction = (uint8_t)(w >> 24);
	/* cumulative lost is a signed 24-bit number (duplicates can make it negative) */
	b->lost = (int32_t)((w & 0xFFFFFF) ^ 0x800000) - 0x800000;
	b->ext_seq = rd32(p + 8);
	b->jitter = rd32(p + 12);
	b->lsr = rd32(p + 16);
	b->dlsr = rd32(p + 20);
}

int media_rtcp_block_find(const uint8_t *buf, size_t len, uint32_t ssrc,
			  struct media_rtcp_block *b)
{
	size_t off = 0;
	int err = ENOENT;

	if (!buf || !b)
		return EINVAL;
	while (off + 4 <= len) {
		const uint8_t *h = buf + off;
		unsigned count = h[0] & 0x1F, pt = h[1];
		size_t plen = ((size_t)(h[2] << 8 | h[3]) + 1) * 4, first;

		if ((h[0] >> 6) != 2 || plen > len - off)
			return EBADMSG;
		if (pt == 200 || pt == 201) {
			first = pt == 200 ? 28 : 8;
			if (plen < first + 24 * (size_t)count)
				return EBADMSG;
			/* the last block about us wins: a compound has at most one per report */
			for (unsigned i = 0; i < count; i++) {
				struct media_rtcp_block x;

				block_read(h + first + 24 * i, &x);
				if (x.ssrc == ssrc) {
					*b = x;
					err = 0;
				}
			}
		}
		off += plen;
	}
	return off == len ? err : EBADMSG;
}
