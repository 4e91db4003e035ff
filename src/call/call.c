/* call: one call's state machine on libre's sipsess — INVITE/CANCEL/BYE, ring timeout,
 * offer/answer and re-INVITEs into the media stream, SIP INFO DTMF, and the outcome.
 *
 * libre 1.1.0 does not report what happens to our own CANCEL or BYE: once we let go of the
 * session (mem_deref) it finishes the transaction by itself, including the CANCEL/200 race
 * (a 200 arriving after our CANCEL is ACKed and then BYEd). So a call decides its own
 * outcome at the moment it hangs up and reports ENDED then; libre's later traffic changes
 * nothing in the record. An outbound call cancelled after its INVITE left sends cccd's own
 * CANCEL with a Reason (cancel.c) and holds itself and its session until the INVITE's
 * final response, so that libre sends no second CANCEL; the record is not delayed.
 *
 * Trunk failover: an outbound call through trunks carries its route plan (route.c) and
 * tries its trunks one after the other, each attempt a new INVITE in a new session (new
 * Call-ID, tag and branch), until one attempt gets an outcome that must not be retried
 * (call_failover_ok), the plan or [sip] trunk_attempts runs out, or the call ends (ring
 * timeout, call_hangup). The call object, its media stream and its ring timer live across
 * the attempts: the owner sees one call whose start is the first INVITE and whose outcome
 * is the last attempt's; the attempts before it are log lines naming the trunk and why it
 * was left, and the record's reason names the trunk of the last one.
 *
 * Trunk limits: an attempt holds a channel of its trunk from its INVITE until it fails
 * over or the call ends, and its INVITE counts for the trunk's cps; a trunk at either
 * limit is skipped like one out of use (the dial queue, src/dialq, waits for room before
 * it places a session, so only failovers and transfer legs meet a full trunk here). On
 * UDP, an attempt that hears nothing at all — not even 100 Trying — within the trunk's
 * trying_timeout_ms fails then as a transport failure, and so fails over, instead of
 * waiting out Timer B's 32 s. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "base/base.h"
#include "call/call_int.h"
#include "metrics/metrics.h"

enum call_state { CALL_CALLING = 0, CALL_RINGING, CALL_ANSWERED, CALL_ENDED };

/* Owner: the session glue (call_originate's caller, or the incoming handler that took it).
 * The user agent lists live calls without owning them. */
struct call {
	struct le le;                 /* in ua->calls while the ua knows the call */
	struct call_ua *ua;
	struct call_trunk *trunk;     /* outbound: the trunk of the current attempt */
	bool holds;                   /* the current attempt holds a channel of `trunk` */
	struct call_plan plan;        /* outbound through trunks: the trunks to try, in order */
	struct call_trunk *plan_trunks[CALL_TRUNKS_MAX]; /* plan.steps[i]'s trunk (a reference:
					 * a reload does not change the route of a call made) */
	unsigned next;                /* the plan step the next attempt starts looking at */
	unsigned attempts;            /* INVITEs sent to trunks */
	bool srtp_refused;            /* the peer's SDP would have left the media unencrypted */
	bool srtp_on;                 /* the media last started was SRTP */
	enum sip_transp tp;           /* of the INVITE (the current attempt's), for the record */
	unsigned ring_s;
	char caller[CALL_NUMBER_MAX + 1];
	char uui[CALL_UUI_MAX + 1];     /* the session's UUI, "" = none */
	char uui_hdr[2 * CALL_UUI_MAX + 64]; /* as the current attempt sends it */
	/* the outcome of the attempt that failed, the call's if no other attempt starts */
	enum call_cause fail_cause;
	uint16_t fail_code;
	char fail_reason[64];
	struct sipsess *sess;
	struct call_early early;      /* outbound: PRACKs and the forks of the INVITE */
	struct call_trunk *rel_trunk; /* a trunk's 420/421 changed what 100rel we offer it: */
	enum call_rel100 rel_mode;    /* ... this, for the INVITE sent again */
	enum call_rel100 rel_sent;    /* what the current attempt's INVITE offered */
	bool rel_retried;             /* that retry is made once per call */
	/* early media: the 18x whose SDP the stream plays until the answer */
	char early_tag[64];           /* its To tag; "" before one (each attempt starts anew) */
	struct call_media_params early_mp;
	bool early_reported;          /* EARLY_MEDIA was emitted (once per call) */
	struct call_heard heard;      /* what its early media said (heard.c) */
	struct media_stream *ms;
	struct call_sdp sdp;
	struct sa remote;             /* last remote RTP address */
	struct sa sig;                /* where the peer's SIP came from last (symmetric RTP) */
	struct call_trunk *nat;       /* the trunk whose NAT keys apply (a reference), NULL =
					 * [sip]/[media] */
	struct wheel_tmr ring_tmr;
	struct tmr end_tmr, next_tmr; /* zero delays: libre (wheel.c says why) */
	struct call_timer timer;      /* RFC 4028 session timer (timer.c) */
	uint32_t min_se_asked;        /* a trunk's 422 asked for this interval at least */
	bool retried_422;             /* the INVITE was sent again after a 422 */
	char peer_reason[64];         /* the Reason of the peer's BYE or CANCEL */
	struct wheel_tmr trying_tmr;       /* UDP trunk attempt: the peer's first response is due */
	enum call_state state;
	bool inbound, rang, peer_bye, answer_asap, accepted, have_offer, media_on;
	bool end_reported;            /* ENDED was emitted: the owner may have let go */
	call_event_h *eh;
	void *arg;
	struct call_times times;
	/* the outcome, fixed when the call ends and reported from end_tmr */
	struct call_end end;
	uint16_t end_code;
	char end_reason[64];
	char sid[40];                 /* for logs */
	char call_id[128];            /* of the current INVITE, for the record */
	struct call_evidence evidence; /* ENDED: filled as the media stream goes */
	struct list traces;           /* its SIP traces (trace.c), owned by the ua's table */
	size_t trace_bytes;           /* their bytes, against [records] sip_trace_bytes */
	struct call_cancel cancel;    /* outbound: the INVITE as sent, cccd's CANCEL of it; a
				       * CANCEL under way holds a reference to the call */
	const char *cancel_reason;    /* its Reason, for the BYE if a 2xx crossed it */
};

static void call_destructor(void *arg)
{
	struct call *c = arg;

	wheel_cancel(&c->ring_tmr);
	tmr_cancel(&c->end_tmr);
	tmr_cancel(&c->next_tmr);
	call_timer_stop(&c->timer);
	wheel_cancel(&c->trying_tmr);
	if (!c->end_reported)
		metrics_calls_active_add(-1);
	if (c->holds && c->ua)
		call_trunk_give(c->trunk);
	for (unsigned i = 0; i < c->plan.n; i++)
		mem_deref(c->plan_trunks[i]);
	mem_deref(c->nat);
	list_unlink(&c->le);
	call_trace_drop_list(&c->traces);
	c->ms = mem_deref(c->ms);
	call_sdp_close(&c->sdp);
	call_early_close(&c->early);
	call_cancel_close(&c->cancel);
	if (c->sess && c->inbound && c->state < CALL_ANSWERED && c->accepted)
		(void)sipsess_reject(c->sess, 480, "Temporarily Unavailable", NULL);
	c->sess = mem_deref(c->sess);
}

/* The owner may release c from inside its handler; keep it alive until we return. */
static void emit(struct call *c, struct call_event *ev)
{
	/* The session finishes on ENDED and frees what the call's events point at. */
	BASE_ASSERT(ev->type == CALL_EV_ENDED || c->state != CALL_ENDED,
		    "an ended call reports nothing but its end");
	if (!c->eh)
		return;
	ev->times = c->times;
	mem_ref(c);
	/* what the session logs while it handles the event names it (base.h, Logging) */
	if (strlen(c->sid) == 32) {
		char prev[LOG_SESSION_ID_SIZE];

		log_context_session(c->sid, prev);
		c->eh(c, ev, c->arg);
		log_context_session(prev, NULL);
	}
	else {
		c->eh(c, ev, c->arg);
	}
	mem_deref(c);
}

static void end_fire(void *arg)
{
	struct call *c = arg;
	struct call_event ev = {.type = CALL_EV_ENDED};

	BASE_ASSERT(c->state == CALL_ENDED && !c->end_reported,
		    "a call reports its end once, after it ended");
	/* The media's last figures are taken before RTP stops with the call (a recording in
	 * progress is closed by the stream). */
	call_evidence(c, &c->evidence);
	c->end_reported = true;
	metrics_calls_active_add(-1);
	c->ms = mem_deref(c->ms);
	ev.evidence = &c->evidence;
	ev.end = c->end;
	ev.sip_code = c->end_code;
	ev.reason = c->end_reason;
	log_info("call", "%s: ended %d %s (%s), hung up by %s%s%s", c->sid, c->end.status,
		 c->end.status_str, c->end_reason, call_side_name(c->end.side),
		 c->times.ring_ms ? ", rang" : "", c->times.answer_ms ? ", answered" : "");
	emit(c, &ev);
}

/* The current attempt is over: its trunk's channel is free again. */
static void trunk_release(struct call *c)
{
	wheel_cancel(&c->trying_tmr);
	if (!c->holds)
		return;
	c->holds = false;
	call_trunk_give(c->trunk);
}

/* Fixes the outcome; ENDED is reported from the loop so no caller is re-entered. */
static void call_end(struct call *c, enum call_cause cause, uint16_t code, enum call_side by,
		     const char *reason)
{
	if (c->state == CALL_ENDED)
		return;
	c->state = CALL_ENDED;
	c->times.end_ms = clock_unix_ms();
	wheel_cancel(&c->ring_tmr);
	tmr_cancel(&c->next_tmr);
	call_timer_stop(&c->timer);
	trunk_release(c);
	call_end_status(cause, code, c->rang, by, &c->end);
	if (!c->inbound)
		call_heard_end(&c->heard, cause, &c->end);
	c->end_code = code;
	if (c->trunk && c->attempts > 1)
		re_snprintf(c->end_reason, sizeof(c->end_reason), "%s (trunk %s, attempt %u)",
			    reason ? reason : "", c->trunk->tc->name, c->attempts);
	else
		str_ncpy(c->end_reason, reason ? reason : "", sizeof(c->end_reason));
	tmr_start(&c->end_tmr, 0, end_fire, c);
}

/* Lets libre finish the session: CANCEL before an answer, BYE after. */
static void sess_release(struct call *c)
{
	c->sess = mem_deref(c->sess);
}

/* The same with a Reason header (RFC 3326) on the BYE, saying why cccd ends the call (an
 * unanswered call's CANCEL says it through sess_cancel: libre's CANCEL takes no headers). */
static void sess_release_reason(struct call *c, const char *reason)
{
	if (c->sess && reason)
		(void)sipsess_set_close_headers(c->sess, "Reason: %s\r\n", reason);
	sess_release(c);
}

/* What cccd's BYEs and CANCELs say (docs/sip.md): Q.850 causes, which carriers map to
 * ISUP. */
#define REASON_NORMAL "Q.850;cause=16;text=\"Normal call clearing\""
#define REASON_NO_ANSWER "Q.850;cause=19;text=\"No answer from user (user alerted)\""
#define REASON_NO_RESPONSE "Q.850;cause=18;text=\"No user responding\""
#define REASON_RTP_TIMEOUT "Q.850;cause=41;text=\"RTP timeout\""
#define REASON_SESSION_TIMER "Q.850;cause=102;text=\"Session timer expired\""

/* cccd's CANCEL is over (cancel.c): the session goes — with a BYE carrying the CANCEL's
 * Reason when a 2xx crossed it, else with nothing left to cancel (or, when the peer never
 * answered, with libre's own CANCEL) — and the call's hold on itself with it. */
static void cancel_done(bool answered, void *arg)
{
	struct call *c = arg;

	call_cancel_close(&c->cancel);
	if (answered) {
		log_info("call", "%s: answered as cccd cancelled it: hanging up", c->sid);
		sess_release_reason(c, c->cancel_reason);
	}
	else {
		sess_release(c);
	}
	mem_deref(c);
}

/* Ends an unanswered outbound attempt with a CANCEL that says why (RFC 3326): cccd's own
 * (cancel.c), or libre's without a Reason when the INVITE was not seen leaving. */
static void sess_cancel(struct call *c, const char *reason)
{
	if (!c->sess || c->inbound ||
	    call_cancel_start(&c->cancel, c->ua, c->sid, reason, cancel_done, c)) {
		sess_release(c);
		return;
	}
	c->cancel_reason = reason;
	mem_ref(c); /* until the INVITE's final response: the session must outlive the owner's
		     * hold on the call, and libre's handlers of it point at the call */
}

void call_invite_sent(struct call_ua *ua, enum sip_transp tp, const struct sa *dst,
		      const uint8_t *pkt, size_t len)
{
	struct call *c = ua->inviting;
	char callid[128];

	/* The first INVITE leaves inside sipsess_connect, before the call knows its Call-ID;
	 * a later one (after DNS, a 401 challenge, a TCP connect, a retransmission) names it. */
	if (!c && !call_sip_callid(pkt, len, callid, sizeof(callid))) {
		for (struct le *le = ua->calls.head; le && !c; le = le->next) {
			struct call *x = le->data;

			if (!x->inbound && x->state < CALL_ANSWERED && !strcmp(x->call_id, callid))
				c = x;
		}
	}
	if (c && !c->inbound && c->state < CALL_ANSWERED)
		call_cancel_invite(&c->cancel, tp, dst, pkt, len);
}

/* ---- media --------------------------------------------------------------------------- */

static void media_handler(struct media_stream *ms, const struct media_event *mev, void *arg)
{
	struct call *c = arg;
	struct call_event ev = {.type = CALL_EV_MEDIA};

	(void)ms;
	if (c->state == CALL_ENDED)
		return;
	switch (mev->type) {
	case MEDIA_EV_DTMF:
		ev.type = CALL_EV_DTMF;
		ev.key = mev->key;
		ev.ts_ms = mev->ts_ms;
		ev.source = mev->source == MEDIA_DTMF_INBAND ? CALL_DTMF_INBAND :
			    CALL_DTMF_RFC4733;
		break;
	case MEDIA_EV_HEARD:
		if (mev->heard.slot != MEDIA_LISTEN_EARLY) {
			ev.media = mev;
			break;
		}
		if (c->state < CALL_ANSWERED &&
		    call_heard_take(&c->heard, c->trunk ? c->trunk->tc : NULL, &mev->heard)) {
			log_info("call", "%s: the carrier's message says the call will not be "
				 "answered: cancelling", c->sid);
			sess_cancel(c, REASON_NORMAL);
			call_end(c, CALL_CAUSE_CANCEL, 0, CALL_SIDE_SYSTEM,
				 "cancelled by cccd: early media recognised");
		}
		return;
	case MEDIA_EV_RTP_TIMEOUT:
		log_warn("call", "%s: no RTP from the peer: hanging up", c->sid);
		sess_release_reason(c, REASON_RTP_TIMEOUT);
		call_end(c, CALL_CAUSE_ANSWERED, 200, CALL_SIDE_SYSTEM, "RTP timeout");
		return;
	default:
		ev.media = mev;
		break;
	}
	emit(c, &ev);
}

static int media_apply(struct call *c, struct call_media_params *mp)
{
	struct media_params p = {0};
	char sab[64];
	int err;

	if (!sa_isset(&mp->remote, SA_ADDR)) {
		/* c=0.0.0.0 hold: keep sending nowhere new */
		if (!sa_isset(&c->remote, SA_ALL))
			return 0;
		mp->remote = c->remote;
	}
	c->remote = mp->remote;
	if (!c->ms)
		return 0;
	p.remote = &mp->remote;
	p.codec = mp->codec;
	p.pt = mp->pt;
	p.telev_pt = mp->telev_pt;
	p.ptime_ms = 20;
	p.hold = mp->hold;
	p.latch = c->nat ? c->nat->tc->latch : c->ua->cc.latch;
	p.sig = sa_isset(&c->sig, SA_ADDR) ? &c->sig : NULL;
	p.srtp = mp->srtp;
	c->srtp_on = mp->srtp.suite != MEDIA_SRTP_NONE;
	err = media_stream_start(c->ms, &p);
	memset(&p.srtp, 0, sizeof(p.srtp));
	if (err) {
		log_warn("call", "%s: cannot start media towards %s: %s", c->sid,
			 call_sa_str(&mp->remote, sab, sizeof(sab)), strerror(err));
		return err;
	}
	log_debug("call", "%s: media %s pt %d to %s%s%s", c->sid, media_codec_name(mp->codec),
		  mp->telev_pt, call_sa_str(&mp->remote, sab, sizeof(sab)),
		  mp->srtp.suite ? " (SRTP)" : "", mp->hold ? " (held)" : "");
	c->media_on = true;
	return 0;
}

/* The media would go unencrypted on a trunk that requires SRTP (or an RTP/SAVP offer
 * came without a key cccd can use). */
static void srtp_refused(struct call *c, const char *what)
{
	const char *trunk = c->nat ? c->nat->tc->name : "";

	c->srtp_refused = true;
	log_warn("call", "%s: SDP %s without a usable a=crypto (SDES) from %s%s: %s", c->sid,
		 what, trunk[0] ? "trunk " : "a peer of no trunk", trunk,
		 trunk[0] ? "it requires SRTP, plain RTP refused" : "RTP/SAVP cannot be keyed");
}

/* The peer's SDP in msg: an offer (we answer into *descp) or an answer. */
static int sdp_take(struct call *c, const struct sip_msg *msg, bool offer, struct mbuf **descp)
{
	struct call_media_params mp;
	int err;

	if (!msg_ctype_cmp(&msg->ctyp, "application", "sdp"))
		return EPROTO;
	c->sig = msg->src;
	err = call_sdp_decode(&c->sdp, msg->mb, offer, &mp);
	if (err == EACCES)
		srtp_refused(c, offer ? "offer" : "answer");
	else if (err)
		log_warn("call", "%s: unusable SDP %s from the peer", c->sid,
			 offer ? "offer" : "answer");
	if (err)
		return err;
	err = media_apply(c, &mp);
	if (!err && descp)
		err = call_sdp_encode(&c->sdp, false, descp);
	return err;
}

/* A new offer/answer state on the call's RTP address as the peer must see it (each trunk
 * attempt starts one: trunks may be told different addresses), offering the trunk's
 * codecs if it has its own list, else [media] codecs. */
static int sdp_init(struct call *c, const struct call_trunk *t)
{
	const struct call_conf *cc = &c->ua->cc;
	enum call_srtp srtp;
	struct sa laddr, adv;

	if (c->ms)
		media_stream_local(c->ms, &laddr);
	else /* signalling only (tools): advertise a discard port on our SIP address */
		sa_set_str(&laddr, c->ua->cc.listen[0].host, 9);
	call_advertised_tc(cc, c->nat ? c->nat->tc : NULL, true, &laddr, &adv);
	srtp = c->nat ? c->nat->tc->srtp : CALL_SRTP_OFF;
	if (t && t->tc->ncodecs)
		return call_sdp_init(&c->sdp, &adv, t->tc->codecs, t->tc->ncodecs, srtp);
	return call_sdp_init(&c->sdp, &adv, cc->codecs, cc->ncodecs, srtp);
}

/* The Contact user libre puts in our requests and answers: "cccd" at the address of the
 * transport (libre's default), or a whole URI on the advertised address when one is
 * configured (libre prints a contact user with a ':' as the URI itself). */
static void contact_user(const struct call *c, enum sip_transp tp, const struct sa *laddr,
			 char *buf, size_t sz)
{
	struct sa adv;

	call_advertised_tc(&c->ua->cc, c->nat ? c->nat->tc : NULL, false, laddr, &adv);
	if (sa_cmp(&adv, laddr, SA_ALL))
		str_ncpy(buf, "cccd", sz);
	else
		re_snprintf(buf, sz, "sip:cccd@%J%s", &adv, sip_transp_param(tp));
}

/* contact_user for a request to a destination over tp, from the listening address libre
 * takes for it (the first transport of that kind). */
static void contact_out(const struct call *c, enum sip_transp tp, char *buf, size_t sz)
{
	struct sa laddr;

	if (sip_transp_laddr(c->ua->sip, &laddr, tp, NULL))
		str_ncpy(buf, "cccd", sz);
	else
		contact_user(c, tp, &laddr, buf, sz);
}

static int media_init(struct call *c, const struct media_stream *near)
{
	int err;

	if (c->ua->media) {
		err = media_stream_alloc_near(&c->ms, c->ua->media, near, media_handler, c);
		if (err) {
			log_error("call", "%s: no RTP port: %s", c->sid, strerror(err));
			return err;
		}
	}
	return sdp_init(c, NULL);
}

/* ---- session handlers ---------------------------------------------------------------- */

static int offer_handler(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;

	/* A re-INVITE: with an offer (hold, codec change) we answer; without one we offer and
	 * the answer comes in the ACK. Either way it refreshes the session (RFC 4028); an
	 * interval below min_se cannot be refused with 422 here (libre answers re-INVITEs),
	 * so it is taken as the old interval's refresh. */
	if (c->state == CALL_ANSWERED)
		(void)call_timer_refreshed(&c->timer, &c->ua->cc, msg);
	if (mbuf_get_left(msg->mb))
		return sdp_take(c, msg, true, descp);
	return call_sdp_encode(&c->sdp, true, descp);
}

static int answer_handler(const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;

	/* The answer came in a reliable 18x of the dialog that answered (RFC 3262 §5): the
	 * 2xx need not repeat it. Taken from an unreliable one too, rather than hanging up. */
	if (!mbuf_get_left(msg->mb) && c->early_tag[0] && !pl_strcmp(&msg->to.tag, c->early_tag))
		return media_apply(c, &c->early_mp);
	return sdp_take(c, msg, false, NULL);
}

/* An 18x with SDP: the answer to our offer, in an early dialog. The stream starts on it and
 * receives the callee side's audio (announcements, ringback) into the recording and the
 * in-band DTMF detector, but sends nothing: cccd as the caller stays silent until the
 * answer (held, which also keeps the RTP timeout off: early media may pause). When forks
 * send SDP one after the other, the latest one plays; the 2xx settles it. */
static void early_media(struct call *c, const struct sip_msg *msg)
{
	struct call_event ev = {.type = CALL_EV_EARLY_MEDIA};
	struct call_media_params mp;

	if (!mbuf_get_left(msg->mb) || !msg_ctype_cmp(&msg->ctyp, "application", "sdp") ||
	    !pl_isset(&msg->to.tag) || msg->to.tag.l >= sizeof(c->early_tag))
		return;
	if (call_sdp_decode(&c->sdp, msg->mb, false, &mp)) {
		log_warn("call", "%s: unusable SDP in the %u: no early media", c->sid,
			 msg->scode);
		return;
	}
	c->early_mp = mp;
	mp.hold = true;
	if (media_apply(c, &mp))
		return;
	pl_strcpy(&msg->to.tag, c->early_tag, sizeof(c->early_tag));
	call_heard_start(&c->heard, c->ms, c->trunk ? c->trunk->tc : NULL, c->sid);
	if (c->early_reported)
		return;
	c->early_reported = true;
	log_info("call", "%s: early media (%u)", c->sid, msg->scode);
	emit(c, &ev);
}

/* 181 (forwarded) and 182 (queued) say where the call is, not that a phone rings: they
 * neither ring the record nor stop a trunk failover. Every other 18x does both. */
static bool scode_rings(uint16_t scode)
{
	return scode >= 180 && scode <= 189 && scode != 181 && scode != 182;
}

static void progress_handler(const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;
	struct call_event ev = {.type = CALL_EV_RINGING};

	wheel_cancel(&c->trying_tmr); /* any response: the trunk is alive */
	call_cancel_provisional(&c->cancel);
	if (c->state >= CALL_ANSWERED)
		return;
	mem_ref(c); /* the early media event's handler may let go of it */
	(void)call_early_prack(&c->early, c->ua->sip, msg);
	early_media(c, msg);
	if (msg->scode == 181 || msg->scode == 182)
		log_info("call", "%s: %u %.*s", c->sid, msg->scode, (int)msg->reason.l,
			 msg->reason.p);
	/* c->state: the early media event's handler may have hung up */
	if (scode_rings(msg->scode) && !c->rang && c->state == CALL_CALLING) {
		c->rang = true;
		c->state = CALL_RINGING;
		c->times.ring_ms = clock_unix_ms();
		log_info("call", "%s: ringing (%u)", c->sid, msg->scode);
		emit(c, &ev);
	}
	mem_deref(c);
}

static void estab_handler(const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;
	struct call_event ev = {.type = CALL_EV_ANSWERED};

	if (c->state == CALL_ENDED) {
		call_cancel_final(&c->cancel, true);
		return;
	}
	call_cancel_reset(&c->cancel); /* nothing left to cancel */
	wheel_cancel(&c->ring_tmr);
	call_heard_stop(&c->heard, c->ms);
	if (!c->times.answer_ms)
		c->times.answer_ms = clock_unix_ms();
	c->state = CALL_ANSWERED;
	log_info("call", "%s: answered", c->sid);
	if (!c->inbound) /* msg is the 2xx; an inbound call settled its timer on the INVITE */
		call_timer_answered(&c->timer, msg);
	call_timer_start(&c->timer);
	emit(c, &ev);
}

static void info_handler(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;
	struct call_event ev = {.type = CALL_EV_DTMF};
	char key;
	int err = call_info_dtmf(msg, &key);

	if (err == ENOTSUP) {
		(void)sip_replyf(sip, msg, 415, "Unsupported Media Type",
				 "Accept: application/dtmf-relay, application/dtmf\r\n"
				 "Content-Length: 0\r\n\r\n");
		return;
	}
	if (err) {
		(void)sip_reply(sip, msg, 400, "Bad DTMF Body");
		return;
	}
	(void)sip_reply(sip, msg, 200, "OK");
	if (c->state != CALL_ANSWERED)
		return;
	ev.key = key;
	ev.ts_ms = clock_unix_ms();
	ev.source = CALL_DTMF_SIP_INFO;
	emit(c, &ev);
}

static bool attempt_failed(struct call *c, int err, const struct sip_msg *msg,
			   enum call_cause cause, uint16_t code, const char *reason);
static bool rel100_retry(struct call *c, const struct sip_msg *msg);
static void attempt_next(void *arg);

static void close_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;
	char reason[64];

	wheel_cancel(&c->trying_tmr);
	if (c->state == CALL_ENDED) {
		call_cancel_final(&c->cancel, false);
		return;
	}
	/* this INVITE is over: a hang-up before the next attempt's has nothing to cancel */
	call_cancel_reset(&c->cancel);
	if (msg && !msg->req)
		re_snprintf(reason, sizeof(reason), "%u %r", msg->scode, &msg->reason);
	else if (err)
		re_snprintf(reason, sizeof(reason), "%m", err);
	else
		str_ncpy(reason, "closed", sizeof(reason));

	if (c->state == CALL_ANSWERED || (c->inbound && c->times.answer_ms)) {
		bool by_peer = c->peer_bye || (err == ECONNRESET && !msg);

		if (by_peer && c->peer_reason[0])
			re_snprintf(reason, sizeof(reason), "BYE from the peer: %s", c->peer_reason);
		else if (by_peer)
			str_ncpy(reason, "BYE from the peer", sizeof(reason));
		call_end(c, CALL_CAUSE_ANSWERED, 200, by_peer ? CALL_SIDE_USER : CALL_SIDE_SYSTEM,
			 reason);
	}
	else if (c->inbound) {
		if (err == ECONNRESET && c->peer_reason[0])
			re_snprintf(reason, sizeof(reason), "CANCEL from the caller: %s",
				    c->peer_reason);
		else if (err == ECONNRESET)
			str_ncpy(reason, "CANCEL from the caller", sizeof(reason));
		call_end(c, err == ECONNRESET ? CALL_CAUSE_IN_CANCEL : CALL_CAUSE_IN_REFUSED, 0,
			 CALL_SIDE_USER, reason);
	}
	else {
		enum call_cause cause = CALL_CAUSE_TRANSPORT;
		uint16_t code = 0;
		const char *why = reason;

		if (msg && !msg->req && msg->scode == 422 && c->trunk && !c->retried_422 &&
		    call_min_se(msg) > c->min_se_asked) {
			/* RFC 4028 §7.4: the same trunk again, asking at least its Min-SE */
			c->retried_422 = true;
			c->min_se_asked = call_min_se(msg);
			log_info("call", "%s: trunk %s: 422, calling again with Session-Expires %u",
				 c->sid, c->trunk->tc->name, c->min_se_asked);
			c->next--;
			c->attempts--;
			tmr_start(&c->next_tmr, 0, attempt_next, c);
			return;
		}
		if (msg && !msg->req && msg->scode >= 300) {
			cause = CALL_CAUSE_SIP;
			code = msg->scode;
		}
		else if (msg && !msg->req) {
			/* a 2xx whose SDP we could not use: libre has ACKed and sent BYE */
			cause = CALL_CAUSE_MEDIA;
			code = msg->scode;
			why = c->srtp_refused ? "SDP answer without SRTP (a=crypto) on a trunk "
				"that requires it" : "unusable SDP answer";
		}
		else if (err == ETIMEDOUT) {
			cause = CALL_CAUSE_RING_TIMEOUT;
			why = "no final response";
		}
		if (c->trunk && rel100_retry(c, msg))
			return;
		if (c->trunk && attempt_failed(c, err, msg, cause, code, why))
			return;
		call_end(c, cause, code, CALL_SIDE_SYSTEM, why);
	}
}

static void ring_timeout(void *arg)
{
	struct call *c = arg;

	if (c->state >= CALL_ANSWERED)
		return;
	log_info("call", "%s: ring timeout%s", c->sid, c->rang ? "" : " without a ring");
	sess_cancel(c, c->rang ? REASON_NO_ANSWER : REASON_NO_RESPONSE);
	call_end(c, CALL_CAUSE_RING_TIMEOUT, 0, CALL_SIDE_SYSTEM, "ring timeout");
}

/* ---- public -------------------------------------------------------------------------- */

static int call_alloc(struct call **cp, struct call_ua *ua, bool inbound)
{
	struct call *c = mem_zalloc(sizeof(*c), call_destructor);

	if (!c)
		return ENOMEM;
	metrics_calls_active_add(1);
	c->ua = ua;
	c->inbound = inbound;
	sa_init(&c->sig, AF_UNSPEC);
	wheel_tmr_init(&c->ring_tmr);
	tmr_init(&c->end_tmr);
	tmr_init(&c->next_tmr);
	call_timer_init(&c->timer, c);
	wheel_tmr_init(&c->trying_tmr);
	call_cancel_init(&c->cancel);
	c->times.start_ms = clock_unix_ms();
	list_append(&ua->calls, &c->le, c);
	*cp = c;
	return 0;
}

static bool trunk_down(unsigned trunk, void *arg)
{
	return call_trunk_state(arg, trunk) == 0;
}

/* ---- attempts through trunks ----------------------------------------------------------- */

/* A UDP trunk said nothing to the INVITE in time: as a transport failure (it fails over,
 * and takes the trunk out of use when health checks can bring it back). */
static void trying_timeout(void *arg)
{
	struct call *c = arg;
	char reason[64];

	if (c->state != CALL_CALLING)
		return;
	re_snprintf(reason, sizeof(reason), "no response in %u ms",
		    c->trunk->tc->trying_timeout_ms);
	log_warn("call", "%s: trunk %s: %s", c->sid, c->trunk->tc->name, reason);
	sess_release(c);
	if (attempt_failed(c, ETIMEDOUT, NULL, CALL_CAUSE_TRANSPORT, 0, reason))
		return;
	call_end(c, CALL_CAUSE_TRANSPORT, 0, CALL_SIDE_SYSTEM, reason);
}

/* The User-to-User header of the next INVITE, as the trunk takes the UUI (tc NULL: a
 * direct destination, sent whole): hex, so twice the bytes. */
static int uui_header(struct call *c, const struct call_trunk_conf *tc)
{
	char hex[2 * CALL_UUI_MAX + 1], part[CALL_UUI_MAX + 1];
	int err;

	c->uui_hdr[0] = '\0';
	if (!c->uui[0] || (tc && tc->uui == CALL_UUI_DROP))
		return 0;
	str_ncpy(part, c->uui, tc && tc->uui == CALL_UUI_TRUNCATE ? tc->uui_max + 1 :
		 sizeof(part));
	err = call_uui_hex(part, hex, sizeof(hex));
	if (err)
		return err;
	re_snprintf(c->uui_hdr, sizeof(c->uui_hdr), "User-to-User: %s;encoding=hex\r\n", hex);
	return 0;
}

/* An upper estimate of the INVITE's size: what varies (URIs, Contact, headers, SDP) plus
 * what libre adds around it (request line, Via, Call-ID, CSeq, Max-Forwards, User-Agent,
 * Allow, Supported, Content-Type and -Length). */
static size_t invite_size(const struct mbuf *offer, const char *to, const char *pai,
			  const char *contact, const char *thdrs, const char *uui_hdr)
{
	return 2 * strlen(to) + 2 * strlen(pai) + strlen(contact) + strlen(thdrs) +
	       strlen(uui_hdr) + (offer ? offer->end : 0) + 450;
}

/* Sends the INVITE of the next plan step whose trunk is usable now, as a new session;
 * trunks that went out of use since the plan was made are skipped. ENOENT when no step
 * is left or the call has made its [sip] trunk_attempts. */
static int trunk_invite(struct call *c)
{
	struct call_ua *ua = c->ua;
	int err = ENOENT;

	while (c->next < c->plan.n && c->attempts < ua->cc.trunk_attempts) {
		struct call_trunk *t = c->plan_trunks[c->next];
		const struct call_plan_step *st = &c->plan.steps[c->next++];
		char to_uri[400], from_uri[400], pai_uri[400], thdrs[200], contact[128];
		const char *routev[1] = {t->tc->proxy};
		const char *uparam = t->tc->user_phone ? ";user=phone" : "";
		struct mbuf *offer = NULL;
		enum call_rel100 rel = c->rel_trunk == t ? c->rel_mode : t->tc->rel100;

		if (!call_trunk_usable(t)) {
			log_info("call", "%s: trunk %s skipped: out of use", c->sid, t->tc->name);
			err = ENOENT;
			continue;
		}
		if (!call_trunk_room(t, clock_mono_ms(), NULL)) {
			log_info("call", "%s: trunk %s skipped: at its channel or cps limit", c->sid,
				 t->tc->name);
			err = ENOENT;
			continue;
		}
		if (c->uui[0] && t->tc->uui == CALL_UUI_REFUSE) {
			log_info("call", "%s: trunk %s skipped: it takes no UUI (uui = refuse)",
				 c->sid, t->tc->name);
			err = ENOENT;
			continue;
		}
		/* The last moment before the numbers reach the wire: check them once more. */
		if (!call_number_ok(st->number) || !call_number_ok(c->caller))
			return EINVAL;
		err = uui_header(c, t->tc);
		if (err)
			return err;
		mem_deref(c->nat);
		c->nat = mem_ref(t);
		c->early_tag[0] = '\0';
		call_sdp_close(&c->sdp);
		err = sdp_init(c, t);
		if (err)
			return err;
		c->tp = t->tc->transport == CALL_TLS ? SIP_TRANSP_TLS :
			t->tc->transport == CALL_TCP ? SIP_TRANSP_TCP : SIP_TRANSP_UDP;
		contact_out(c, c->tp, contact, sizeof(contact));
		err = call_sdp_encode(&c->sdp, true, &offer);
		if (err)
			return err;
		c->trunk = t;
		c->attempts++;
		re_snprintf(to_uri, sizeof(to_uri), "sip:%s@%s%s%s", st->number, t->hostport,
			    t->tparam, uparam);
		re_snprintf(pai_uri, sizeof(pai_uri), "sip:%s@%s%s", c->caller,
			    t->tc->from_domain, uparam);
		call_timer_invite_hdrs(&ua->cc, c->min_se_asked, call_rel100_tag(rel), thdrs,
				       sizeof(thdrs));
		/* RFC 3261 §18.1.1: a request within 200 bytes of the path MTU (1500) goes over
		 * TCP, when the carrier takes TCP too (a proxy route keeps its own transport). */
		if (c->tp == SIP_TRANSP_UDP && t->tc->tcp_for_large && !t->tc->proxy[0] &&
		    invite_size(offer, to_uri, pai_uri, contact, thdrs, c->uui_hdr) >
		    CALL_UDP_REQUEST_MAX) {
			c->tp = SIP_TRANSP_TCP;
			contact_out(c, c->tp, contact, sizeof(contact));
			re_snprintf(to_uri, sizeof(to_uri), "sip:%s@%s;transport=tcp%s",
				    st->number, t->hostport, uparam);
			log_info("call", "%s: the INVITE to trunk %s is over %u bytes: sent over "
				 "TCP", c->sid, t->tc->name, CALL_UDP_REQUEST_MAX);
		}
		/* RFC 3325: a withheld caller is anonymous in From, its number only in the
		 * P-Asserted-Identity the trusted carrier needs for billing and emergency. */
		if (t->tc->anonymous)
			str_ncpy(from_uri, "sip:anonymous@anonymous.invalid", sizeof(from_uri));
		else
			str_ncpy(from_uri, pai_uri, sizeof(from_uri));
		call_cancel_reset(&c->cancel);
		ua->inviting = c; /* its INVITE may leave inside sipsess_connect */
		err = sipsess_connect(&c->sess, ua->sock, to_uri,
				      t->tc->anonymous ? "Anonymous" : NULL, from_uri, contact,
				      routev, t->tc->proxy[0] ? 1 : 0, "application/sdp", offer,
				      call_trunk_auth, t, false, offer_handler, answer_handler,
				      progress_handler, estab_handler, info_handler, NULL,
				      close_handler, c, "%s%s%s%s%s%s%s", t->tc->pai ?
				      "P-Asserted-Identity: <" : "", t->tc->pai ? pai_uri : "",
				      t->tc->pai ? ">\r\n" : "",
				      t->tc->anonymous ? "Privacy: id\r\n" : "", thdrs, c->uui_hdr,
				      call_rel100_hdr(rel));
		ua->inviting = NULL;
		mem_deref(offer);
		if (!err) {
			c->rel_sent = rel;
			call_early_start(&c->early, sipsess_dialog(c->sess), c->sid);
			str_ncpy(c->call_id, sip_dialog_callid(sipsess_dialog(c->sess)),
				 sizeof(c->call_id));
			if (call_trace_open(ua, &c->traces, &c->trace_bytes, c->call_id))
				log_warn("call", "%s: no memory for its SIP trace", c->sid);
			call_trunk_take(t, clock_mono_ms());
			c->holds = true;
			if (t->tc->trying_timeout_ms && c->tp == SIP_TRANSP_UDP)
				wheel_start(&c->trying_tmr, t->tc->trying_timeout_ms, trying_timeout, c);
			if (c->attempts == 1)
				log_info("call", "%s: calling %s as %s via trunk %s (ring %us)", c->sid,
					 st->number, c->caller, t->tc->name, c->ring_s);
			else
				log_info("call", "%s: calling %s as %s via trunk %s (attempt %u)",
					 c->sid, st->number, c->caller, t->tc->name, c->attempts);
			return 0;
		}
		log_warn("call", "%s: cannot send the INVITE to trunk %s: %s", c->sid, t->tc->name,
			 strerror(err));
		call_trunk_invite_failed(t, err, NULL);
		c->fail_cause = CALL_CAUSE_TRANSPORT;
		c->fail_code = 0;
		re_snprintf(c->fail_reason, sizeof(c->fail_reason), "%m", err);
	}
	return err;
}

static bool next_usable(const struct call *c)
{
	if (c->attempts >= c->ua->cc.trunk_attempts)
		return false;
	for (unsigned i = c->next; i < c->plan.n; i++) {
		if (call_trunk_usable(c->plan_trunks[i]))
			return true;
	}
	return false;
}

static void attempt_next(void *arg)
{
	struct call *c = arg;
	int err;

	if (c->state != CALL_CALLING)
		return;
	sess_release(c); /* the failed attempt's session, finished */
	trunk_release(c);
	err = trunk_invite(c);
	if (err == ENOENT) /* gone out of use meanwhile: the failed attempt is the last */
		call_end(c, c->fail_cause, c->fail_code, CALL_SIDE_SYSTEM, c->fail_reason);
	else if (err)
		call_end(c, CALL_CAUSE_TRANSPORT, 0, CALL_SIDE_SYSTEM, c->fail_reason[0] ?
			 c->fail_reason : "cannot send the INVITE");
}

/* An attempt through a trunk failed before the answer (close_handler): notes what it says
 * about the trunk's health, and moves the call to the next trunk when that is safe and one
 * is left. The next INVITE goes out from the loop, outside libre's handler of this one. */
static bool attempt_failed(struct call *c, int err, const struct sip_msg *msg,
			   enum call_cause cause, uint16_t code, const char *reason)
{
	call_trunk_invite_failed(c->trunk, err, msg);
	if (!call_failover_ok(code, err, c->rang))
		return false;
	if (!next_usable(c)) {
		if (c->plan.n > 1)
			log_info("call", "%s: trunk %s failed (%s); no other trunk to try", c->sid,
				 c->trunk->tc->name, reason);
		return false;
	}
	log_info("call", "%s: trunk %s failed (%s): trying the next trunk", c->sid,
		 c->trunk->tc->name, reason);
	c->fail_cause = cause;
	c->fail_code = code;
	str_ncpy(c->fail_reason, reason, sizeof(c->fail_reason));
	tmr_start(&c->next_tmr, 0, attempt_next, c);
	return true;
}

/* A trunk that will not do what our INVITE said about 100rel: 421 Extension Required
 * (Require: 100rel) when we did not offer it, or 420 Bad Extension (Unsupported: 100rel)
 * when we required it. The same trunk gets the INVITE again, once per call, with
 * `Supported: 100rel` alone, which both can live with; it is not a failover attempt. */
static bool rel100_retry(struct call *c, const struct sip_msg *msg)
{
	bool wants = msg && !msg->req && msg->scode == 421 && c->rel_sent == CALL_REL100_OFF &&
		     sip_msg_hdr_has_value(msg, SIP_HDR_REQUIRE, "100rel");
	bool refuses = msg && !msg->req && msg->scode == 420 &&
		       c->rel_sent == CALL_REL100_REQUIRED &&
		       sip_msg_hdr_has_value(msg, SIP_HDR_UNSUPPORTED, "100rel");

	if ((!wants && !refuses) || c->rel_retried || c->state != CALL_CALLING)
		return false;
	log_info("call", "%s: trunk %s answered %u about 100rel: sending the INVITE again "
		 "with Supported: 100rel", c->sid, c->trunk->tc->name, msg->scode);
	c->rel_retried = true;
	c->rel_trunk = c->trunk;
	c->rel_mode = CALL_REL100_SUPPORTED;
	c->next--;
	c->attempts--;
	c->fail_cause = CALL_CAUSE_SIP; /* if the trunk is gone before the retry */
	c->fail_code = msg->scode;
	re_snprintf(c->fail_reason, sizeof(c->fail_reason), "%u %r", msg->scode, &msg->reason);
	tmr_start(&c->next_tmr, 0, attempt_next, c);
	return true;
}

bool call_uri_ok(const char *uri)
{
	const char *p, *at, *host, *end;
	size_t n;

	if (!uri || strncmp(uri, "sip:", 4) || strlen(uri) > 256)
		return false;
	p = uri + 4;
	at = strchr(p, '@');
	if (!at || at == p)
		return false;
	for (const char *q = p; q < at; q++) {
		if (!isalnum((unsigned char)*q) && !strchr("-_.!~*'()+", *q))
			return false;
	}
	host = at + 1;
	if (*host == '[') {
		end = strchr(host, ']');
		if (!end || end == host + 1)
			return false;
		for (const char *q = host + 1; q < end; q++) {
			if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
				return false;
		}
		end++;
	}
	else {
		n = strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (!n)
			return false;
		end = host + n;
	}
	if (*end == ':') {
		unsigned long port;
		char *e;

		if (!isdigit((unsigned char)end[1]))
			return false;
		port = strtoul(end + 1, &e, 10);
		if (port < 1 || port > 65535)
			return false;
		end = e;
	}
	return !*end || !strcmp(end, ";transport=udp") || !strcmp(end, ";transport=tcp");
}

int call_originate(struct call **cp, struct call_ua *ua, const struct call_params *p,
		   call_event_h *eh, void *arg)
{
	char to_uri[400], from_uri[400], thdrs[200], contact[128];
	struct call_plan plan;
	struct mbuf *offer = NULL;
	struct call *c = NULL;
	int err;

	if (!cp || !ua || !p || !eh || (!p->callee && !p->uri) || !p->caller)
		return EINVAL;
	if (!call_number_ok(p->caller)) {
		log_warn("call", "refusing caller '%.40s': only digits and a leading +", p->caller);
		return EINVAL;
	}
	if (p->uri) {
		if (!call_uri_ok(p->uri)) {
			log_warn("call", "%s: refusing URI '%.60s'", p->session_id ? p->session_id : "",
				 p->uri);
			return EINVAL;
		}
	}
	else {
		err = call_route_plan(&ua->cc, p->callee, trunk_down, ua, rand_u64(), &plan);
		if (err) {
			log_warn("call", "%s: no trunk for callee '%.40s'",
				 p->session_id ? p->session_id : "", p->callee);
			return err;
		}
	}
	if (p->uui && strlen(p->uui) > CALL_UUI_MAX)
		return EINVAL;
	err = call_alloc(&c, ua, false);
	if (err)
		return err;
	c->eh = eh;
	c->arg = arg;
	str_ncpy(c->sid, p->session_id && p->session_id[0] ? p->session_id : "call",
		 sizeof(c->sid));
	str_ncpy(c->caller, p->caller, sizeof(c->caller));
	str_ncpy(c->uui, p->uui ? p->uui : "", sizeof(c->uui));
	c->ring_s = p->max_ring_s ? p->max_ring_s : ua->cc.ring_timeout;
	if (c->ring_s > ua->cc.ring_timeout_max)
		c->ring_s = ua->cc.ring_timeout_max;
	err = media_init(c, p->near);
	if (err)
		goto out;

	if (p->uri) {
		/* A direct destination (a skill group's SIP phone): no trunk, no credentials. */
		err = uui_header(c, NULL);
		err = err ? err : call_sdp_encode(&c->sdp, true, &offer);
		if (err)
			goto out;
		str_ncpy(to_uri, p->uri, sizeof(to_uri));
		re_snprintf(from_uri, sizeof(from_uri), "sip:%s@%s", p->caller,
			    ua->cc.sip_external[0] ? ua->cc.sip_external : ua->cc.listen[0].host);
		c->tp = strstr(p->uri, ";transport=tcp") ? SIP_TRANSP_TCP : SIP_TRANSP_UDP;
		contact_out(c, strstr(p->uri, ";transport=tcp") ? SIP_TRANSP_TCP :
			    SIP_TRANSP_UDP, contact, sizeof(contact));
		call_timer_invite_hdrs(&ua->cc, 0, NULL, thdrs, sizeof(thdrs));
		ua->inviting = c; /* its INVITE may leave inside sipsess_connect */
		err = sipsess_connect(&c->sess, ua->sock, to_uri, NULL, from_uri, contact, NULL, 0,
				      "application/sdp", offer, NULL, NULL, false, offer_handler,
				      answer_handler, progress_handler, estab_handler,
				      info_handler, NULL, close_handler, c,
				      "P-Asserted-Identity: <%s>\r\n%s%s", from_uri, thdrs,
				      c->uui_hdr);
		ua->inviting = NULL;
		if (err) {
			log_warn("call", "%s: cannot send the INVITE: %s", c->sid, strerror(err));
			goto out;
		}
		call_early_start(&c->early, sipsess_dialog(c->sess), c->sid);
		log_info("call", "%s: calling %s as %s directly (ring %us)", c->sid, p->uri,
			 p->caller, c->ring_s);
	}
	else {
		c->plan = plan;
		for (unsigned i = 0; i < plan.n; i++)
			c->plan_trunks[i] = mem_ref(ua->trunks[plan.steps[i].trunk]);
		err = trunk_invite(c);
		if (err)
			goto out;
	}
	/* One ring time for the whole call, across trunk attempts: MaxRingTimeoutSecond is
	 * what the customer allowed the callee's phone, and a failover happens before any
	 * phone rang. */
	wheel_start(&c->ring_tmr, c->ring_s * 1000ull, ring_timeout, c);

 out:
	mem_deref(offer);
	if (err)
		mem_deref(c);
	else
		*cp = c;
	return err;
}

/* ---- inbound ------------------------------------------------------------------------- */

static int answer_now(struct call *c)
{
	struct mbuf *desc = NULL;
	char thdrs[300];
	int err;

	if (c->have_offer)
		err = call_sdp_encode(&c->sdp, false, &desc);
	else
		err = call_sdp_encode(&c->sdp, true, &desc);
	call_timer_reply_hdrs(&c->timer, false, thdrs, sizeof(thdrs));
	err = err ? err : sipsess_answer(c->sess, 200, "OK", desc, "%s", thdrs);
	mem_deref(desc);
	if (err) {
		log_warn("call", "%s: cannot answer: %s", c->sid, strerror(err));
		return err;
	}
	c->times.answer_ms = clock_unix_ms();
	return 0;
}

int call_answer(struct call *c)
{
	if (!c || !c->inbound)
		return EINVAL;
	if (c->state >= CALL_ANSWERED || c->times.answer_ms || c->answer_asap)
		return EALREADY;
	if (!c->accepted) {
		/* from inside the incoming handler: answered right after the 180 */
		c->answer_asap = true;
		return 0;
	}
	return answer_now(c);
}

static uint16_t refuse_code(int err, const char **reason)
{
	switch (err) {
	case ENOENT:
		*reason = "Not Found";
		return 404;
	case EBUSY:
		*reason = "Busy Here";
		return 486;
	case EAGAIN:
		*reason = "Service Unavailable";
		return 503;
	default:
		*reason = "Temporarily Unavailable";
		return 480;
	}
}

/* Inbound admission: at most [sip] inbound_cps new calls a second, in bursts of up to a
 * second's worth. A trunk that floods cccd with INVITEs beyond what the control loop can
 * set up (300 calls/s sustained on 2 cores: docs/benchmarks.md) would otherwise delay the
 * ACKs and BYEs of calls already up until their transactions time out; refusing the excess
 * at once with 503 and Retry-After lets the trunk route or retry it and keeps the admitted
 * calls whole. Logged at most once a second, with the count. */
static bool inbound_admit(struct call_ua *ua)
{
	unsigned cps = ua->cc.inbound_cps;
	uint64_t now = clock_mono_ms();

	if (!cps)
		return true;
	if (!ua->in_tokens_ms)
		ua->in_tokens = cps;
	else
		ua->in_tokens += (double)(now - ua->in_tokens_ms) * cps / 1000.0;
	if (ua->in_tokens > cps)
		ua->in_tokens = cps;
	ua->in_tokens_ms = now;
	if (ua->in_tokens >= 1) {
		ua->in_tokens -= 1;
		return true;
	}
	ua->in_refused++;
	if (now - ua->in_refused_log_ms >= 1000) {
		log_warn("call", "inbound calls above [sip] inbound_cps (%u/s): %u refused with "
			 "503 in the last second or more", cps, ua->in_refused);
		ua->in_refused_log_ms = now;
		ua->in_refused = 0;
	}
	return false;
}

/* The caller's number: the From user; when the From withholds it (anonymous, RFC 3323)
 * the first P-Asserted-Identity's. Inbound INVITEs come from trunks, the network RFC 3325
 * trusts; the number is recorded and *withheld says it must not be shown on. */
static void caller_of(const struct sip_msg *msg, char *out, size_t sz, bool *withheld)
{
	const struct sip_hdr *pai = sip_msg_hdr(msg, SIP_HDR_P_ASSERTED_IDENTITY);
	struct sip_addr addr;
	struct pl v;

	*withheld = call_hdr_token(msg, SIP_HDR_PRIVACY, "id");
	if (!call_uri_number(&msg->from.uri, out, sz))
		return;
	out[0] = '\0';
	*withheld = true; /* a From without a number: anonymous, or a name */
	if (!pai)
		return;
	v = pai->val;
	if (!sip_addr_decode(&addr, &v) && call_uri_number(&addr.uri, out, sz))
		out[0] = '\0';
}

void call_incoming(const struct sip_msg *msg, void *arg)
{
	struct call_ua *ua = arg;
	char callee[CALL_NUMBER_MAX + 1], caller[CALL_NUMBER_MAX + 1], uui[CALL_UUI_MAX + 1];
	char callid[128], contact[128];
	struct call_incoming in;
	struct call *c = NULL;
	const char *reason;
	uint16_t code;
	int err;

	/* Strangers first: nothing about the numbers cccd serves is told to them. */
	if (call_acl_refused(ua, msg))
		return;
	if (call_uri_number(&msg->uri, callee, sizeof(callee))) {
		char sab[64];

		log_debug("call", "inbound INVITE from %s to a non-number: 404",
			 call_sa_str(&msg->src, sab, sizeof(sab)));
		(void)sip_reply(ua->sip, msg, 404, "Not Found"); /* stateless: see below */
		return;
	}
	if (!ua->ih) {
		(void)sip_reply(ua->sip, msg, 404, "Not Found");
		return;
	}
	if (!inbound_admit(ua)) {
		/* Stateless: a refusal in a flood must cost less than an answer. A transaction
		 * would keep two timers (32 s, and retransmissions until the ACK), and libre
		 * inserts every timer by walking its sorted list; a lost 503 brings the INVITE
		 * again, which is simply judged again. */
		(void)sip_replyf(ua->sip, msg, 503, "Service Unavailable",
				 "Retry-After: 1\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	if (drain_active()) {
		/* Draining (CccdDrainNode, SIGUSR1): no new calls here; the trunk or the SIP
		 * edge routes this one to another node. Stateless, like the flood refusal, and
		 * logged at most once a second (the control loop's counters). */
		static uint64_t refused, logged_ms;
		uint64_t now = clock_mono_ms();

		refused++;
		if (now - logged_ms >= 1000) {
			log_info("call", "inbound INVITE refused (503): node draining (%llu so far)",
				 (unsigned long long)refused);
			logged_ms = now;
		}
		(void)sip_replyf(ua->sip, msg, 503, "Service Unavailable",
				 "Retry-After: %u\r\nContent-Length: 0\r\n\r\n",
				 CALL_DRAIN_RETRY_AFTER_S);
		return;
	}
	caller_of(msg, caller, sizeof(caller), &in.withheld);
	if (call_uui_decode(msg, uui, sizeof(uui)))
		uui[0] = '\0';
	re_snprintf(callid, sizeof(callid), "%r", &msg->callid);

	err = call_alloc(&c, ua, true);
	if (err) {
		(void)sip_treply(NULL, ua->sip, msg, 500, "Server Internal Error");
		return;
	}
	re_snprintf(c->sid, sizeof(c->sid), "in:%.32s", callid);
	{
		int at = call_trunk_at(ua, &msg->src);

		c->nat = at >= 0 ? mem_ref(ua->trunks[at]) : NULL;
	}
	c->tp = msg->tp;
	c->sig = msg->src;
	str_ncpy(c->call_id, callid, sizeof(c->call_id));
	if (call_trace_open(ua, &c->traces, &c->trace_bytes, c->call_id))
		log_warn("call", "%s: no memory for its SIP trace", c->sid);
	if (call_timer_offered(&c->timer, &ua->cc, msg) == EPROTO) {
		log_info("call", "%s: Session-Expires below [sip] min_se %u: 422", c->sid,
			 ua->cc.min_se);
		(void)sip_treplyf(NULL, NULL, ua->sip, msg, false, 422,
				  "Session Interval Too Small",
				  "Min-SE: %u\r\nContent-Length: 0\r\n\r\n", ua->cc.min_se);
		goto refused;
	}
	err = media_init(c, NULL);
	if (err) {
		(void)sip_treply(NULL, ua->sip, msg, 503, "Service Unavailable");
		goto refused;
	}
	if (mbuf_get_left(msg->mb)) {
		struct call_media_params mp;

		err = msg_ctype_cmp(&msg->ctyp, "application", "sdp") ?
		      call_sdp_decode(&c->sdp, msg->mb, true, &mp) : EPROTO;
		if (err == EACCES)
			srtp_refused(c, "offer");
		if (err) {
			log_info("call", "%s: unusable SDP offer: 488", c->sid);
			(void)sip_treply(NULL, ua->sip, msg, 488, "Not Acceptable Here");
			goto refused;
		}
		c->have_offer = true;
		if (media_apply(c, &mp)) {
			(void)sip_treply(NULL, ua->sip, msg, 488, "Not Acceptable Here");
			goto refused;
		}
	}

	in.callee = callee;
	in.caller = caller;
	in.uui = uui;
	in.call_id = callid;
	c->eh = NULL;
	err = ua->ih(c, &in, &c->eh, &c->arg, ua->arg);
	if (err || !c->eh) {
		code = refuse_code(err ? err : EINVAL, &reason);
		log_info("call", "%s: inbound call to %s refused: %u", c->sid, callee, code);
		(void)sip_treply(NULL, ua->sip, msg, code, reason);
		c->eh = NULL;
		goto refused;
	}
	/* From here the handler's owner holds c. */
	if (c->state == CALL_ENDED) { /* hung up from inside the handler */
		(void)sip_treply(NULL, ua->sip, msg, 480, "Temporarily Unavailable");
		return;
	}
	log_info("call", "%s: inbound call from '%s'%s to %s", c->sid, caller,
		 in.withheld ? " (withheld)" : "", callee);
	contact_user(c, msg->tp, &msg->dst, contact, sizeof(contact));
	err = sipsess_accept(&c->sess, ua->sock, msg, 180, "Ringing", contact, "application/sdp",
			     NULL, NULL, NULL, false, offer_handler, answer_handler,
			     estab_handler, info_handler, NULL, close_handler, c,
			     "Supported: timer\r\nAllow: " CALL_ALLOW "\r\n");
	if (err) {
		(void)sip_treply(NULL, ua->sip, msg, 500, "Server Internal Error");
		call_end(c, CALL_CAUSE_IN_REFUSED, 0, CALL_SIDE_SYSTEM, "cannot accept");
		return;
	}
	c->accepted = true;
	if (c->answer_asap && answer_now(c)) {
		sess_release(c);
		call_end(c, CALL_CAUSE_IN_REFUSED, 0, CALL_SIDE_SYSTEM, "cannot answer");
	}
	return;

 refused:
	mem_deref(c);
}

/* ---- the rest ------------------------------------------------------------------------ */

void call_hangup(struct call *c)
{
	if (!c || c->state == CALL_ENDED)
		return;
	if (c->state == CALL_ANSWERED || (c->inbound && c->times.answer_ms)) {
		sess_release_reason(c, REASON_NORMAL);
		call_end(c, CALL_CAUSE_ANSWERED, 200, CALL_SIDE_SYSTEM, "hung up by cccd");
	}
	else if (c->inbound) {
		if (c->sess)
			(void)sipsess_reject(c->sess, 480, "Temporarily Unavailable", NULL);
		sess_release(c);
		call_end(c, CALL_CAUSE_IN_REFUSED, 0, CALL_SIDE_SYSTEM, "refused by cccd");
	}
	else {
		sess_cancel(c, REASON_NORMAL);
		call_end(c, CALL_CAUSE_CANCEL, 0, CALL_SIDE_SYSTEM, "cancelled by cccd");
	}
}

struct call *call_find(struct call_ua *ua, const struct sip_msg *msg)
{
	for (struct le *le = ua->calls.head; le; le = le->next) {
		struct call *c = le->data;
		const struct sip_dialog *dlg = sipsess_dialog(c->sess);

		if (dlg && sip_dialog_cmp(dlg, msg))
			return c;
	}
	return NULL;
}

void call_peer_bye(struct call *c, const struct sip_msg *msg)
{
	char text[sizeof(c->peer_reason)];
	int err = call_reason_text(msg, text, sizeof(text));

	if (!pl_strcmp(&msg->met, "BYE"))
		c->peer_bye = true;
	if (!err) {
		str_ncpy(c->peer_reason, text, sizeof(c->peer_reason));
		log_info("call", "%s: %.*s with Reason %s", c->sid, (int)msg->met.l, msg->met.p,
			 text);
	}
	else if (err == EINVAL) {
		log_info("call", "%s: %.*s with an unreadable Reason", c->sid, (int)msg->met.l,
			 msg->met.p);
	}
}

struct call *call_find_cancelled(struct call_ua *ua, const struct sip_msg *msg)
{
	for (struct le *le = ua->calls.head; le; le = le->next) {
		struct call *c = le->data;
		const struct sip_dialog *dlg = sipsess_dialog(c->sess);

		/* a CANCEL has the INVITE's To, without our tag: its Call-ID names the call */
		if (c->inbound && c->state < CALL_ANSWERED && dlg &&
		    !pl_strcmp(&msg->callid, sip_dialog_callid(dlg)))
			return c;
	}
	return NULL;
}

struct sipsess *call_sess(const struct call *c)
{
	return c->sess;
}

struct call_ua *call_ua_of(const struct call *c)
{
	return c->ua;
}

void call_contact_addr(const struct call *c, const struct sa *local, struct sa *out)
{
	call_advertised_tc(&c->ua->cc, c->nat ? c->nat->tc : NULL, false, local, out);
}

const char *call_sid(const struct call *c)
{
	return c->sid;
}

struct call_timer *call_timer_of(struct call *c)
{
	return &c->timer;
}

int call_offer_take(struct call *c, const struct sip_msg *msg, struct mbuf **descp)
{
	return sdp_take(c, msg, true, descp);
}

int call_offer_make(struct call *c, struct mbuf **descp)
{
	return call_sdp_encode(&c->sdp, true, descp);
}

void call_session_expired(struct call *c, const char *why)
{
	if (c->state == CALL_ENDED)
		return;
	sess_release_reason(c, REASON_SESSION_TIMER);
	call_end(c, CALL_CAUSE_ANSWERED, 200, CALL_SIDE_SYSTEM, why);
}

void call_detach(struct call *c)
{
	list_unlink(&c->le);
	wheel_cancel(&c->ring_tmr);
	tmr_cancel(&c->end_tmr);
	wheel_cancel(&c->trying_tmr);
	c->holds = false; /* the user agent and its trunks are going away */
	c->eh = NULL;
	c->ms = mem_deref(c->ms);
	c->state = CALL_ENDED;
	c->ua = NULL;
	if (c->cancel.pending) { /* the user agent goes: so does the CANCEL's hold */
		call_cancel_close(&c->cancel);
		sess_release(c);
		mem_deref(c);
		return;
	}
	sess_release(c);
}

struct media_stream *call_media(const struct call *c)
{
	return c ? c->ms : NULL;
}

void call_evidence(const struct call *c, struct call_evidence *e)
{
	char sab[64];

	memset(e, 0, sizeof(*e));
	if (!c)
		return;
	if (c->end_reported) { /* the stream is gone: what was taken as it went */
		*e = c->evidence;
		return;
	}
	str_ncpy(e->call_id, c->call_id, sizeof(e->call_id));
	if (c->trunk)
		str_ncpy(e->trunk, c->trunk->tc->name, sizeof(e->trunk));
	e->sip_code = c->state == CALL_ENDED ? c->end_code : c->times.answer_ms ? 200 : 0;
	str_ncpy(e->sip_reason, c->state == CALL_ENDED ? c->end_reason : "", sizeof(e->sip_reason));
	if (sa_isset(&c->remote, SA_ALL))
		str_ncpy(e->remote_media, call_sa_str(&c->remote, sab, sizeof(sab)),
			 sizeof(e->remote_media));
	str_ncpy(e->transport, sip_transp_name(c->tp), sizeof(e->transport));
	e->srtp = c->media_on && c->srtp_on;
	if (c->ms && c->media_on) {
		e->has_media = true;
		media_stream_quality(c->ms, &e->quality);
	}
	call_heard_evidence(&c->heard, e);
}

void call_trace_bind(struct call *c, const char *session_id, uint64_t sdkappid)
{
	if (c && session_id)
		call_trace_bind_list(&c->traces, session_id, sdkappid);
}

const struct call_times *call_times(const struct call *c)
{
	return c ? &c->times : NULL;
}

struct call_early *call_early_of(struct call *c)
{
	return c && !c->inbound ? &c->early : NULL;
}

bool call_is_inbound(const struct call *c)
{
	return c && c->inbound;
}
