/* Fuzz harness: bytes as a raw SIP message through the call module's framing and header
 * checks (frame.c), as a datagram and as a stream message, and, when refused, through the
 * stateless answer built from it; and through the Via rewrite of NAT (via.c). Seeds: the
 * RFC 4475 messages in tests/sip/torture. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "call/call_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct call_frame f;
	struct mbuf *vb = mbuf_alloc(size + 64);
	struct sa laddr, adv;

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
	/* the rewrite keeps what is around the sent-by it replaces */
	sa_set_str(&laddr, "192.0.2.1", 5060);
	sa_set_str(&adv, "2001:db8::5", 5060);
	if (vb && !mbuf_write_mem(vb, data, size)) {
		vb->pos = 0;
		if (!call_via_advertise(vb, &laddr, &adv) && mbuf_get_left(vb) != size &&
		    mbuf_get_left(vb) != size - strlen("192.0.2.1:5060") +
					    strlen("[2001:db8::5]:5060"))
			__builtin_trap();
	}
	mem_deref(vb);
	return 0;
}
