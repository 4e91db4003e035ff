/* Fuzz harness: bytes as a SIP message through libre's decoder and the call module's own
 * readers (INFO DTMF, User-to-User, numbers in URIs, Retry-After, Session-Expires and Min-SE with
 * the session timer negotiation, Reason, Allow/Supported tokens), and its body through SDP
 * offer/answer as both an offer and an answer. */
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "call/call_int.h"

static void sdp_try(struct mbuf *body, bool offer)
{
	static const enum media_codec codecs[2] = {MEDIA_PCMU, MEDIA_PCMA};
	struct call_media_params mp;
	struct call_sdp s;
	struct mbuf *out = NULL;
	struct sa laddr;
	size_t pos = body->pos;

	sa_set_str(&laddr, "127.0.0.1", 20000);
	if (call_sdp_init(&s, &laddr, codecs, 2, CALL_SRTP_OFF))
		return;
	if (!call_sdp_decode(&s, body, offer, &mp))
		(void)call_sdp_encode(&s, !offer, &out);
	mem_deref(out);
	call_sdp_close(&s);
	body->pos = pos;
}

/* Session-Expires read, and the interval settled as for an inbound INVITE and a 2xx. */
static void se_try(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	struct call_conf cc = {.session_expires = 1800, .min_se = 90};
	struct call_timer t;
	enum call_refresher ref;
	char hdrs[300];
	uint32_t se;

	if (h)
		(void)call_se_decode(&h->val, &se, &ref);
	call_timer_init(&t, NULL);
	(void)call_timer_offered(&t, &cc, msg);
	call_timer_reply_hdrs(&t, false, hdrs, sizeof(hdrs));
	call_timer_init(&t, NULL);
	call_timer_answered(&t, msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbuf *mb = mbuf_alloc(size + 1);
	struct sip_msg *msg = NULL;
	char buf[CALL_UUI_MAX + 1], key;

	if (!mb)
		return 0;
	(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;
	if (!sip_msg_decode(&msg, mb)) {
		(void)call_info_dtmf(msg, &key);
		(void)call_uui_decode(msg, buf, sizeof(buf));
		(void)call_uri_number(&msg->uri, buf, sizeof(buf));
		(void)call_uri_number(&msg->from.uri, buf, sizeof(buf));
		(void)call_retry_after(msg);
		(void)call_min_se(msg);
		(void)call_reason_text(msg, buf, sizeof(buf));
		(void)call_hdr_token(msg, SIP_HDR_ALLOW, "UPDATE");
		(void)call_hdr_token(msg, SIP_HDR_SUPPORTED, "timer");
		se_try(msg);
		if (mbuf_get_left(msg->mb)) {
			sdp_try(msg->mb, true);
			sdp_try(msg->mb, false);
		}
		mem_deref(msg);
	}
	/* the whole input as an SDP body too */
	mb->pos = 0;
	if (size)
		sdp_try(mb, true);
	mem_deref(mb);
	return 0;
}
