/* Fuzz harness for the media module's wire parsing: RTP headers (CSRC, extension,
 * padding), RFC 4733 payloads with the receive state machine, compound RTCP, and the RTCP
 * writer's output read back. The first byte picks how the rest is split. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "media/media_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct media_telev_rx rx = {0};
	struct media_rtcp_info info;
	struct media_rtp p;
	size_t off = 1;

	if (size < 1)
		return 0;
	/* The input as one RTP packet and as one compound RTCP packet. */
	if (media_rtp_parse(data + 1, size - 1, &p) == 0) {
		struct media_telev t;
		int16_t pcm[2048];

		if (p.payload < data + 1 || p.payload + p.plen > data + size)
			__builtin_trap();
		if (p.plen <= 2048)
			media_g711_decode(p.pt & 1 ? MEDIA_PCMA : MEDIA_PCMU, pcm, p.payload, p.plen);
		if (media_telev_parse(p.payload, p.plen, &t) == 0) {
			char key;

			media_telev_rx(&rx, p.ts, &t, &key);
		}
	}
	media_rtcp_parse(data + 1, size - 1, &info);
	{
		struct media_rtcp_block b;

		/* the peer's report blocks about us: any SSRC the input names */
		if (size >= 5)
			(void)media_rtcp_block_find(data + 1, size - 1,
						    (uint32_t)data[1] << 24 | data[2], &b);
	}

	/* The input as a train of RFC 4733 packets (length-prefixed): a key is reported at
	 * most once per distinct, newer timestamp. */
	memset(&rx, 0, sizeof(rx));
	while (off < size) {
		size_t len = data[off++] % 32;
		struct media_telev t;
		uint32_t last = rx.ts;
		bool seen = rx.seen;
		char key = 0;

		if (len > size - off)
			len = size - off;
		if (media_rtp_parse(data + off, len, &p) == 0 &&
		    media_telev_parse(p.payload, p.plen, &t) == 0 &&
		    media_telev_rx(&rx, p.ts, &t, &key)) {
			if (seen && (int32_t)(p.ts - last) <= 0)
				__builtin_trap();
			if (!key)
				__builtin_trap();
		}
		off += len;
	}

	/* What we write, we parse. */
	{
		struct media_rtcp_report r = {.sender = data[0] & 1, .has_block = data[0] & 2,
					      .cname = "cccd"};
		uint8_t buf[128];
		size_t n;

		if (size >= 9) {
			memcpy(&r.ssrc, data + 1, 4);
			memcpy(&r.lost, data + 5, 4);
		}
		n = media_rtcp_write(buf, sizeof(buf), &r);
		if (!n || media_rtcp_parse(buf, n, &info) || info.sr != r.sender)
			__builtin_trap();
	}
	return 0;
}
