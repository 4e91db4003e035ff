/* Fuzz harness: bytes as a raw SIP message through the call module's framing and header
 * checks (frame.c), as a datagram and as a stream message, and, when refused, through the
 * stateless answer built from it. Seeds: the RFC 4475 messages in tests/sip/torture. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "call/call_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct call_frame f;

	for (int datagram = 0; datagram < 2; datagram++) {
		if (call_frame_check(p, size, datagram, &f))
			continue;
		if (!f.scode) {
			if (f.hdr_len > size || (datagram && f.hdr_len + f.body_len > size))
				__builtin_trap(); /* the verdict must stay inside the message */
			continue;
		}
		if (f.req) {
			struct mbuf *mb = mbuf_alloc(1024);

			if (mb)
				(void)call_frame_reply(mb, p, size, f.scode, f.reason);
			mem_deref(mb);
		}
	}
	return 0;
}
