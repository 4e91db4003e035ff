/* Fuzz harness: bytes as SDP straight into the call module's offer/answer (src/call/sdp.c)
 * in the orders a call meets them — an answer to our offer (outbound), an offer we answer
 * (inbound), and a second offer on the same state (a re-INVITE: hold, new address, codec
 * change), with each [trunk] srtp setting (the a=crypto lines, SDES keys). The input is split
 * at its first NUL byte: the part after it is the re-offer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "call/call_int.h"

static struct mbuf *body_of(const uint8_t *data, size_t size)
{
	struct mbuf *mb = mbuf_alloc(size + 1);

	if (!mb)
		return NULL;
	(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;
	return mb;
}

/* The first SDP as an answer (after our offer) or an offer; then the second as a
 * re-offer; every successful step is encoded back as libre would send it. */
static void exchange(struct mbuf *first, struct mbuf *second, bool outbound,
		     const enum media_codec *codecs, unsigned ncodecs, enum call_srtp srtp)
{
	struct call_media_params mp;
	struct call_sdp s;
	struct mbuf *out = NULL;
	struct sa laddr;

	sa_set_str(&laddr, "127.0.0.1", 20000);
	if (call_sdp_init(&s, &laddr, codecs, ncodecs, srtp))
		return;
	if (outbound && !call_sdp_encode(&s, true, &out))
		out = mem_deref(out);
	first->pos = 0;
	if (!call_sdp_decode(&s, first, !outbound, &mp)) {
		if (!outbound && !call_sdp_encode(&s, false, &out))
			out = mem_deref(out);
		if (second) {
			second->pos = 0;
			if (!call_sdp_decode(&s, second, true, &mp) &&
			    !call_sdp_encode(&s, false, &out))
				out = mem_deref(out);
		}
	}
	call_sdp_close(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum media_codec both[2] = {MEDIA_PCMU, MEDIA_PCMA};
	static const enum media_codec alaw[1] = {MEDIA_PCMA};
	static const enum media_codec wide[4] = {MEDIA_OPUS, MEDIA_G722, MEDIA_PCMU, MEDIA_PCMA};
	const uint8_t *nul = memchr(data, 0, size);
	size_t n1 = nul ? (size_t)(nul - data) : size;
	struct mbuf *first = body_of(data, n1);
	struct mbuf *second = nul ? body_of(nul + 1, size - n1 - 1) : NULL;

	if (first) {
		exchange(first, second, true, both, 2, CALL_SRTP_OFF);
		exchange(first, second, false, both, 2, CALL_SRTP_OFF);
		exchange(first, second, false, alaw, 1, CALL_SRTP_OPTIONAL);
		exchange(first, second, true, wide, 4, CALL_SRTP_REQUIRED);
		exchange(first, second, false, wide, 4, CALL_SRTP_REQUIRED);
		exchange(first, second, true, both, 2, CALL_SRTP_OPTIONAL);
	}
	mem_deref(first);
	mem_deref(second);
	return 0;
}
