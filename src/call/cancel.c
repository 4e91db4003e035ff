/* call: cccd's own CANCEL of an outbound INVITE, carrying a Reason header (RFC 3326) that
 * says why cccd gave up — carriers map it to the ISUP release cause the caller's network
 * shows, and TCCC's own CANCELs carry one.
 *
 * libre 1.1.0 builds its CANCEL itself (src/sip/ctrans.c request_copy, from
 * sip_ctrans_cancel, called by sip_request_cancel when a sipsess is released before its
 * answer: src/sipsess/sess.c termwait) with a fixed set of headers and no way to add one.
 * So cccd sends the CANCEL itself and keeps libre from sending its own:
 *
 *  - the INVITE as it left (libre's trace handler sees every message sent, with its
 *    destination) is kept per attempt, and the CANCEL is built from it exactly as
 *    request_copy builds libre's: same Request-URI, the one top Via (so the same branch),
 *    Max-Forwards, the Route set, To (no tag), From, Call-ID, the CSeq number with method
 *    CANCEL — plus Reason — and sent to the INVITE's destination over its transport
 *    (sip_send: the same path, so the same NAT rewriting and trace);
 *  - the call keeps the session (and so libre's INVITE client transaction) alive instead
 *    of releasing it: libre sends a CANCEL only when a session still waiting for its
 *    final response is released, so it sends none. The INVITE transaction receives the
 *    487 as always (libre ACKs it); then the session is released with nothing left to
 *    cancel;
 *  - on UDP the CANCEL is a non-INVITE client transaction of cccd's: sent again at T1,
 *    2T1, … up to T2 (RFC 3261 §17.1.2.2) until a response to it or the INVITE's final
 *    response arrives;
 *  - a 2xx that crossed the CANCEL establishes the session: it is then released with a
 *    BYE carrying the same Reason (libre ACKs the 2xx and sends the BYE);
 *  - no provisional response yet: a CANCEL may not go before one (RFC 3261 §9.1); it goes
 *    on the first;
 *  - nothing final 64*T1 after the CANCEL started (the peer ignores it): the session is
 *    released, and libre sends its own CANCEL, without a Reason, and ends the transaction
 *    by its timers, as before.
 *
 * Where the INVITE was not seen (nothing sent yet) the session is released at once as
 * before: libre cancels on the first provisional response, without a Reason. */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "call/call_int.h"

enum { CANCEL_GIVE_UP_MS = 64 * SIP_T1 };

void call_cancel_init(struct call_cancel *k)
{
	memset(k, 0, sizeof(*k));
	wheel_tmr_init(&k->tmr);
	wheel_tmr_init(&k->give_up);
	tmr_init(&k->done);
}

void call_cancel_close(struct call_cancel *k)
{
	wheel_cancel(&k->tmr);
	wheel_cancel(&k->give_up);
	tmr_cancel(&k->done);
	list_unlink(&k->le);
	k->invite = mem_deref(k->invite);
	k->mb = mem_deref(k->mb);
	k->pending = k->sent = k->answered = false;
}

void call_cancel_reset(struct call_cancel *k)
{
	k->invite = mem_deref(k->invite);
	k->provisional = false;
}

void call_cancel_invite(struct call_cancel *k, enum sip_transp tp, const struct sa *dst,
			const uint8_t *pkt, size_t len)
{
	struct mbuf *mb;

	if (k->pending)
		return; /* the one being cancelled: an INVITE sent after that is no concern */
	mb = mbuf_alloc(len);
	if (!mb || mbuf_write_mem(mb, pkt, len)) {
		mem_deref(mb);
		return; /* without it the CANCEL is libre's, as before */
	}
	mb->pos = 0;
	mem_deref(k->invite);
	k->invite = mb;
	k->tp = tp;
	k->dst = *dst;
}

static bool route_copy(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	(void)msg;
	return mbuf_printf(arg, "Route: %r\r\n", &hdr->val) != 0;
}

/* The CANCEL of the INVITE in k->invite (RFC 3261 §9.1), as libre's request_copy builds
 * one, with a Reason. */
static int cancel_build(struct call_cancel *k, const char *user_agent, const char *reason)
{
	struct sip_msg *inv = NULL;
	struct mbuf *mb;
	int err;

	k->invite->pos = 0;
	err = sip_msg_decode(&inv, k->invite);
	if (err)
		return err;
	if (!inv->req || pl_strcmp(&inv->met, "INVITE") || pl_isset(&inv->to.tag)) {
		mem_deref(inv);
		return EPROTO;
	}
	mb = mbuf_alloc(512);
	if (!mb) {
		mem_deref(inv);
		return ENOMEM;
	}
	err = mbuf_printf(mb, "CANCEL %r SIP/2.0\r\n", &inv->ruri);
	err |= mbuf_printf(mb, "Via: %r\r\n", &inv->via.val);
	err |= mbuf_write_str(mb, "Max-Forwards: 70\r\n");
	err |= sip_msg_hdr_apply(inv, true, SIP_HDR_ROUTE, route_copy, mb) ? ENOMEM : 0;
	err |= mbuf_printf(mb, "To: %r\r\n", &inv->to.val);
	err |= mbuf_printf(mb, "From: %r\r\n", &inv->from.val);
	err |= mbuf_printf(mb, "Call-ID: %r\r\n", &inv->callid);
	err |= mbuf_printf(mb, "CSeq: %u CANCEL\r\n", inv->cseq.num);
	err |= mbuf_printf(mb, "Reason: %s\r\n", reason);
	if (user_agent && user_agent[0])
		err |= mbuf_printf(mb, "User-Agent: %s\r\n", user_agent);
	err |= mbuf_write_str(mb, "Content-Length: 0\r\n\r\n");
	if (!err) {
		err = pl_strcpy(&inv->callid, k->callid, sizeof(k->callid));
		err = err ? err : pl_strcpy(&inv->via.branch, k->branch, sizeof(k->branch));
	}
	mem_deref(inv);
	if (err) {
		mem_deref(mb);
		return err;
	}
	k->mb = mb;
	return 0;
}

static void send_once(struct call_cancel *k)
{
	int err;

	k->mb->pos = 0;
	err = sip_send(k->ua->sip, NULL, k->tp, &k->dst, k->mb);
	if (err)
		log_warn("call", "%s: cannot send the CANCEL: %s", k->sid, strerror(err));
}

static void retransmit(void *arg)
{
	struct call_cancel *k = arg;

	k->txc++;
	wheel_start(&k->tmr, MIN((uint32_t)SIP_T1 << k->txc, (uint32_t)SIP_T2), retransmit, k);
	send_once(k);
}

static void send_now(struct call_cancel *k)
{
	k->sent = true;
	send_once(k);
	if (k->tp == SIP_TRANSP_UDP)
		wheel_start(&k->tmr, SIP_T1, retransmit, k);
}

static void give_up(void *arg)
{
	struct call_cancel *k = arg;

	log_warn("call", "%s: no final response %u s after cccd's CANCEL: libre cancels "
		 "again, without a Reason", k->sid, CANCEL_GIVE_UP_MS / 1000);
	wheel_cancel(&k->tmr);
	k->doneh(false, k->arg);
}

static void finish(void *arg)
{
	struct call_cancel *k = arg;

	wheel_cancel(&k->tmr);
	wheel_cancel(&k->give_up);
	k->doneh(k->answered, k->arg);
}

int call_cancel_start(struct call_cancel *k, struct call_ua *ua, const char *sid,
		      const char *reason, call_cancel_done_h *doneh, void *arg)
{
	int err;

	if (!k->invite || k->pending)
		return ENOENT;
	err = cancel_build(k, ua->cc.user_agent, reason);
	if (err)
		return err;
	k->ua = ua;
	k->sid = sid;
	k->doneh = doneh;
	k->arg = arg;
	k->pending = true;
	k->txc = 0;
	list_append(&ua->cancels, &k->le, k);
	wheel_start(&k->give_up, CANCEL_GIVE_UP_MS, give_up, k);
	if (k->provisional)
		send_now(k);
	return 0;
}

void call_cancel_provisional(struct call_cancel *k)
{
	k->provisional = true;
	if (k->pending && !k->sent)
		send_now(k);
}

void call_cancel_final(struct call_cancel *k, bool answered)
{
	if (!k->pending)
		return;
	k->answered = answered;
	/* from the loop: this runs inside libre's handler of the response */
	tmr_start(&k->done, 0, finish, k);
}

bool call_cancel_response(struct call_ua *ua, const struct sip_msg *msg)
{
	if (pl_strcmp(&msg->cseq.met, "CANCEL"))
		return false;
	for (struct le *le = ua->cancels.head; le; le = le->next) {
		struct call_cancel *k = le->data;

		if (!pl_strcmp(&msg->callid, k->callid) && !pl_strcmp(&msg->via.branch, k->branch)) {
			if (msg->scode >= 200)
				wheel_cancel(&k->tmr);
			if (msg->scode >= 300)
				log_warn("call", "%s: the peer answered cccd's CANCEL with %u %.*s",
					 k->sid, msg->scode, (int)msg->reason.l, msg->reason.p);
			return true;
		}
	}
	return false;
}
