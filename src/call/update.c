/* call: UPDATE in a dialog (RFC 3311) — a session refresh without SDP, or a new offer
 * (hold, another codec, media moved) answered as a re-INVITE's would be.
 *
 * libre 1.1.0's sipsess has no UPDATE: its listener lets the request fall through to the
 * next one (cccd's catch-all would answer 405). So ua.c's first listener, which runs before
 * sipsess's, hands every UPDATE here: the dialog is found as sipsess finds it (Call-ID and
 * tags), its remote CSeq checked and moved on by libre's own sip_dialog_rseq_valid, and the
 * 200 sent in a server transaction (a retransmitted UPDATE gets the same answer again). */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "call/call_int.h"

void call_update_recv(struct call_ua *ua, const struct sip_msg *msg)
{
	struct call *c = call_find(ua, msg);
	struct sip_dialog *dlg = c ? sipsess_dialog(call_sess(c)) : NULL;
	struct call_timer *t;
	struct sip_contact contact;
	struct sa adv;
	struct mbuf *desc = NULL;
	char hdrs[300];
	int err;

	if (!dlg) {
		(void)sip_treply(NULL, ua->sip, msg, 481, "Call/Transaction Does Not Exist");
		return;
	}
	if (!sip_dialog_rseq_valid(dlg, msg)) {
		(void)sip_treply(NULL, ua->sip, msg, 500, "Server Internal Error");
		return;
	}
	t = call_timer_of(c);
	/* RFC 3311 §5.2: an UPDATE crossing ours is glare */
	if (t->req) {
		(void)sip_treplyf(NULL, NULL, ua->sip, msg, false, 491, "Request Pending",
				  "Retry-After: 1\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	if (call_timer_refreshed(t, &ua->cc, msg) == EPROTO) {
		(void)sip_treplyf(NULL, NULL, ua->sip, msg, false, 422,
				  "Session Interval Too Small",
				  "Min-SE: %u\r\nContent-Length: 0\r\n\r\n", ua->cc.min_se);
		return;
	}
	if (mbuf_get_left(msg->mb)) {
		err = call_offer_take(c, msg, &desc);
		if (err) {
			(void)sip_treply(NULL, ua->sip, msg, 488, "Not Acceptable Here");
			return;
		}
		log_info("call", "%s: UPDATE with a new offer: media changed", call_sid(c));
	}
	if (sip_msg_hdr(msg, SIP_HDR_CONTACT))
		(void)sip_dialog_update(dlg, msg); /* a target refresh (RFC 3311 §5.2) */
	call_timer_reply_hdrs(t, true, hdrs, sizeof(hdrs));
	call_contact_addr(c, &msg->dst, &adv);
	sip_contact_set(&contact, "cccd", &adv, msg->tp);
	err = sip_treplyf(NULL, NULL, ua->sip, msg, true, 200, "OK",
			  "%H"
			  "%s"
			  "%s"
			  "Content-Length: %zu\r\n"
			  "\r\n"
			  "%b",
			  sip_contact_print, &contact, hdrs,
			  desc ? "Content-Type: application/sdp\r\n" : "",
			  desc ? mbuf_get_left(desc) : (size_t)0,
			  desc ? mbuf_buf(desc) : NULL, desc ? mbuf_get_left(desc) : (size_t)0);
	if (err)
		log_warn("call", "%s: cannot answer an UPDATE: %s", call_sid(c), strerror(err));
	mem_deref(desc);
}
