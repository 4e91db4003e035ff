/* call: one call's state machine on libre's sipsess — INVITE/CANCEL/BYE, ring timeout,
 * offer/answer and re-INVITEs into the media stream, SIP INFO DTMF, and the outcome.
 *
 * libre 1.1.0 does not report what happens to our own CANCEL or BYE: once we let go of the
 * session (mem_deref) it finishes the transaction by itself, including the CANCEL/200 race
 * (a 200 arriving after our CANCEL is ACKed and then BYEd). So a call decides its own
 * outcome at the moment it hangs up and reports ENDED then; libre's later traffic changes
 * nothing in the record.
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

enum call_state { CALL_CALLING = 0, CALL_RINGING, CALL_ANSWERED, CALL_ENDED };

/* Owner: the session glue (call_originate's caller, or the incoming handler that took it).
 * The user agent lists live calls without owning them. */
struct call {
	struct le le;                 /* in ua->calls while the ua knows the call */
	struct call_ua *ua;
	struct call_trunk *trunk;     /* outbound: the trunk of the current attempt */
	bool holds;                   /* the current attempt holds a channel of `trunk` */
	struct call_plan plan;        /* outbound through trunks: the trunks to try, in order */
	unsigned next;                /* the plan step the next attempt starts looking at */
	unsigned attempts;            /* INVITEs sent to trunks */
	unsigned ring_s;
	char caller[CALL_NUMBER_MAX + 1];
	char uui_hdr[2 * CALL_UUI_MAX + 64];
	/* the outcome of the attempt that failed, the call's if no other attempt starts */
	enum call_cause fail_cause;
	uint16_t fail_code;
	char fail_reason[64];
	struct sipsess *sess;
	struct media_stream *ms;
	struct call_sdp sdp;
	struct sa remote;             /* last remote RTP address */
	struct tmr ring_tmr, end_tmr, next_tmr;
	struct tmr trying_tmr;        /* UDP trunk attempt: the peer's first response is due */
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
};

static void call_destructor(void *arg)
{
	struct call *c = arg;

	tmr_cancel(&c->ring_tmr);
	tmr_cancel(&c->end_tmr);
	tmr_cancel(&c->next_tmr);
	tmr_cancel(&c->trying_tmr);
	if (c->holds && c->ua)
		call_trunk_give(c->trunk);
	list_unlink(&c->le);
	c->ms = mem_deref(c->ms);
	call_sdp_close(&c->sdp);
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
	c->eh(c, ev, c->arg);
	mem_deref(c);
}

static void end_fire(void *arg)
{
	struct call *c = arg;
	struct call_event ev = {.type = CALL_EV_ENDED};

	BASE_ASSERT(c->state == CALL_ENDED && !c->end_reported,
		    "a call reports its end once, after it ended");
	c->end_reported = true;
	/* RTP stops with the call; a recording in progress is closed by the stream. */
	c->ms = mem_deref(c->ms);
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
	tmr_cancel(&c->trying_tmr);
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
	tmr_cancel(&c->ring_tmr);
	tmr_cancel(&c->next_tmr);
	trunk_release(c);
	call_end_status(cause, code, c->rang, by, &c->end);
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
	case MEDIA_EV_RTP_TIMEOUT:
		log_warn("call", "%s: no RTP from the peer: hanging up", c->sid);
		sess_release(c);
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
	p.telev_pt = mp->telev_pt;
	p.ptime_ms = 20;
	p.hold = mp->hold;
	err = media_stream_start(c->ms, &p);
	if (err) {
		log_warn("call", "%s: cannot start media towards %s: %s", c->sid,
			 call_sa_str(&mp->remote, sab, sizeof(sab)), strerror(err));
		return err;
	}
	log_debug("call", "%s: media %s pt %d to %s%s", c->sid, media_codec_name(mp->codec),
		  mp->telev_pt, call_sa_str(&mp->remote, sab, sizeof(sab)), mp->hold ? " (held)" : "");
	c->media_on = true;
	return 0;
}

/* The peer's SDP in msg: an offer (we answer into *descp) or an answer. */
static int sdp_take(struct call *c, const struct sip_msg *msg, bool offer, struct mbuf **descp)
{
	struct call_media_params mp;
	int err;

	if (!msg_ctype_cmp(&msg->ctyp, "application", "sdp"))
		return EPROTO;
	err = call_sdp_decode(&c->sdp, msg->mb, offer, &mp);
	if (err) {
		log_warn("call", "%s: unusable SDP %s from the peer", c->sid,
			 offer ? "offer" : "answer");
		return err;
	}
	err = media_apply(c, &mp);
	if (!err && descp)
		err = call_sdp_encode(&c->sdp, false, descp);
	return err;
}

/* A new offer/answer state on the call's RTP address (each trunk attempt starts one). */
static int sdp_init(struct call *c)
{
	struct sa laddr;

	if (c->ms)
		media_stream_local(c->ms, &laddr);
	else /* signalling only (tools): advertise a discard port on our SIP address */
		sa_set_str(&laddr, c->ua->cc.listen[0].host, 9);
	return call_sdp_init(&c->sdp, &laddr, c->ua->cc.codecs, c->ua->cc.ncodecs);
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
	return sdp_init(c);
}

/* ---- session handlers ---------------------------------------------------------------- */

static int offer_handler(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;

	/* A re-INVITE: with an offer (hold, codec change) we answer; without one we offer and
	 * the answer comes in the ACK. */
	if (mbuf_get_left(msg->mb))
		return sdp_take(c, msg, true, descp);
	return call_sdp_encode(&c->sdp, true, descp);
}

static int answer_handler(const struct sip_msg *msg, void *arg)
{
	return sdp_take(arg, msg, false, NULL);
}

static void progress_handler(const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;
	struct call_event ev = {.type = CALL_EV_RINGING};

	tmr_cancel(&c->trying_tmr); /* any response: the trunk is alive */
	if (msg->scode < 180 || msg->scode > 189 || c->rang || c->state != CALL_CALLING)
		return;
	c->rang = true;
	c->state = CALL_RINGING;
	c->times.ring_ms = clock_unix_ms();
	log_info("call", "%s: ringing (%u)", c->sid, msg->scode);
	emit(c, &ev);
}

static void estab_handler(const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;
	struct call_event ev = {.type = CALL_EV_ANSWERED};

	(void)msg;
	if (c->state == CALL_ENDED)
		return;
	tmr_cancel(&c->ring_tmr);
	if (!c->times.answer_ms)
		c->times.answer_ms = clock_unix_ms();
	c->state = CALL_ANSWERED;
	log_info("call", "%s: answered", c->sid);
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

static void close_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;
	char reason[64];

	tmr_cancel(&c->trying_tmr);
	if (c->state == CALL_ENDED)
		return;
	if (msg && !msg->req)
		re_snprintf(reason, sizeof(reason), "%u %r", msg->scode, &msg->reason);
	else if (err)
		re_snprintf(reason, sizeof(reason), "%m", err);
	else
		str_ncpy(reason, "closed", sizeof(reason));

	if (c->state == CALL_ANSWERED || (c->inbound && c->times.answer_ms)) {
		bool by_peer = c->peer_bye || (err == ECONNRESET && !msg);

		call_end(c, CALL_CAUSE_ANSWERED, 200, by_peer ? CALL_SIDE_USER : CALL_SIDE_SYSTEM,
			 by_peer ? "BYE from the peer" : reason);
	}
	else if (c->inbound) {
		call_end(c, err == ECONNRESET ? CALL_CAUSE_IN_CANCEL : CALL_CAUSE_IN_REFUSED, 0,
			 CALL_SIDE_USER, err == ECONNRESET ? "CANCEL from the caller" : reason);
	}
	else {
		enum call_cause cause = CALL_CAUSE_TRANSPORT;
		uint16_t code = 0;
		const char *why = reason;

		if (msg && !msg->req && msg->scode >= 300) {
			cause = CALL_CAUSE_SIP;
			code = msg->scode;
		}
		else if (msg && !msg->req) {
			/* a 2xx whose SDP we could not use: libre has ACKed and sent BYE */
			cause = CALL_CAUSE_MEDIA;
			code = msg->scode;
			why = "unusable SDP answer";
		}
		else if (err == ETIMEDOUT) {
			cause = CALL_CAUSE_RING_TIMEOUT;
			why = "no final response";
		}
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
	sess_release(c);
	call_end(c, CALL_CAUSE_RING_TIMEOUT, 0, CALL_SIDE_SYSTEM, "ring timeout");
}

/* ---- public -------------------------------------------------------------------------- */

static int call_alloc(struct call **cp, struct call_ua *ua, bool inbound)
{
	struct call *c = mem_zalloc(sizeof(*c), call_destructor);

	if (!c)
		return ENOMEM;
	c->ua = ua;
	c->inbound = inbound;
	tmr_init(&c->ring_tmr);
	tmr_init(&c->end_tmr);
	tmr_init(&c->next_tmr);
	tmr_init(&c->trying_tmr);
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

/* Sends the INVITE of the next plan step whose trunk is usable now, as a new session;
 * trunks that went out of use since the plan was made are skipped. ENOENT when no step
 * is left or the call has made its [sip] trunk_attempts. */
static int trunk_invite(struct call *c)
{
	struct call_ua *ua = c->ua;
	int err = ENOENT;

	while (c->next < c->plan.n && c->attempts < ua->cc.trunk_attempts) {
		const struct call_plan_step *st = &c->plan.steps[c->next++];
		struct call_trunk *t = &ua->trunks[st->trunk];
		char to_uri[400], from_uri[400];
		const char *routev[1] = {t->tc->proxy};
		struct mbuf *offer = NULL;

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
		/* The last moment before the numbers reach the wire: check them once more. */
		if (!call_number_ok(st->number) || !call_number_ok(c->caller))
			return EINVAL;
		if (c->attempts) {
			call_sdp_close(&c->sdp);
			err = sdp_init(c);
			if (err)
				return err;
		}
		err = call_sdp_encode(&c->sdp, true, &offer);
		if (err)
			return err;
		c->trunk = t;
		c->attempts++;
		re_snprintf(to_uri, sizeof(to_uri), "sip:%s@%s%s", st->number, t->hostport,
			    t->tparam);
		re_snprintf(from_uri, sizeof(from_uri), "sip:%s@%s", c->caller, t->tc->from_domain);
		err = sipsess_connect(&c->sess, ua->sock, to_uri, NULL, from_uri, "cccd", routev,
				      t->tc->proxy[0] ? 1 : 0, "application/sdp", offer,
				      call_trunk_auth, t, false, offer_handler, answer_handler,
				      progress_handler, estab_handler, info_handler, NULL,
				      close_handler, c, "P-Asserted-Identity: <%s>\r\n%s", from_uri,
				      c->uui_hdr);
		mem_deref(offer);
		if (!err) {
			call_trunk_take(t, clock_mono_ms());
			c->holds = true;
			if (t->tc->trying_timeout_ms)
				tmr_start(&c->trying_tmr, t->tc->trying_timeout_ms, trying_timeout, c);
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
		if (call_trunk_usable(&c->ua->trunks[c->plan.steps[i].trunk]))
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
	char to_uri[400], from_uri[400], uui_hex[2 * CALL_UUI_MAX + 1];
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
	if (p->uui && p->uui[0]) {
		err = call_uui_hex(p->uui, uui_hex, sizeof(uui_hex));
		if (err)
			return err;
	}
	err = call_alloc(&c, ua, false);
	if (err)
		return err;
	c->eh = eh;
	c->arg = arg;
	str_ncpy(c->sid, p->session_id && p->session_id[0] ? p->session_id : "call",
		 sizeof(c->sid));
	str_ncpy(c->caller, p->caller, sizeof(c->caller));
	if (p->uui && p->uui[0])
		re_snprintf(c->uui_hdr, sizeof(c->uui_hdr), "User-to-User: %s;encoding=hex\r\n",
			    uui_hex);
	c->ring_s = p->max_ring_s ? p->max_ring_s : ua->cc.ring_timeout;
	if (c->ring_s > ua->cc.ring_timeout_max)
		c->ring_s = ua->cc.ring_timeout_max;
	err = media_init(c, p->near);
	if (err)
		goto out;

	if (p->uri) {
		/* A direct destination (a skill group's SIP phone): no trunk, no credentials. */
		err = call_sdp_encode(&c->sdp, true, &offer);
		if (err)
			goto out;
		str_ncpy(to_uri, p->uri, sizeof(to_uri));
		re_snprintf(from_uri, sizeof(from_uri), "sip:%s@%s", p->caller,
			    ua->cc.listen[0].host);
		err = sipsess_connect(&c->sess, ua->sock, to_uri, NULL, from_uri, "cccd", NULL, 0,
				      "application/sdp", offer, NULL, NULL, false, offer_handler,
				      answer_handler, progress_handler, estab_handler,
				      info_handler, NULL, close_handler, c,
				      "P-Asserted-Identity: <%s>\r\n%s", from_uri, c->uui_hdr);
		if (err) {
			log_warn("call", "%s: cannot send the INVITE: %s", c->sid, strerror(err));
			goto out;
		}
		log_info("call", "%s: calling %s as %s directly (ring %us)", c->sid, p->uri,
			 p->caller, c->ring_s);
	}
	else {
		c->plan = plan;
		err = trunk_invite(c);
		if (err)
			goto out;
	}
	/* One ring time for the whole call, across trunk attempts: MaxRingTimeoutSecond is
	 * what the customer allowed the callee's phone, and a failover happens before any
	 * phone rang. */
	tmr_start(&c->ring_tmr, c->ring_s * 1000ull, ring_timeout, c);

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
	int err;

	if (c->have_offer)
		err = call_sdp_encode(&c->sdp, false, &desc);
	else
		err = call_sdp_encode(&c->sdp, true, &desc);
	err = err ? err : sipsess_answer(c->sess, 200, "OK", desc, NULL);
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

void call_incoming(const struct sip_msg *msg, void *arg)
{
	struct call_ua *ua = arg;
	char callee[CALL_NUMBER_MAX + 1], caller[CALL_NUMBER_MAX + 1], uui[CALL_UUI_MAX + 1];
	char callid[128];
	struct call_incoming in;
	struct call *c = NULL;
	const char *reason;
	uint16_t code;
	int err;

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
	if (call_uri_number(&msg->from.uri, caller, sizeof(caller)))
		caller[0] = '\0';
	if (call_uui_decode(msg, uui, sizeof(uui)))
		uui[0] = '\0';
	re_snprintf(callid, sizeof(callid), "%r", &msg->callid);

	err = call_alloc(&c, ua, true);
	if (err) {
		(void)sip_treply(NULL, ua->sip, msg, 500, "Server Internal Error");
		return;
	}
	re_snprintf(c->sid, sizeof(c->sid), "in:%.32s", callid);
	err = media_init(c, NULL);
	if (err) {
		(void)sip_treply(NULL, ua->sip, msg, 503, "Service Unavailable");
		goto refused;
	}
	if (mbuf_get_left(msg->mb)) {
		struct call_media_params mp;

		if (!msg_ctype_cmp(&msg->ctyp, "application", "sdp") ||
		    call_sdp_decode(&c->sdp, msg->mb, true, &mp)) {
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
	log_info("call", "%s: inbound call from '%s' to %s", c->sid, caller, callee);
	err = sipsess_accept(&c->sess, ua->sock, msg, 180, "Ringing", "cccd", "application/sdp",
			     NULL, NULL, NULL, false, offer_handler, answer_handler,
			     estab_handler, info_handler, NULL, close_handler, c, NULL);
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
		sess_release(c);
		call_end(c, CALL_CAUSE_ANSWERED, 200, CALL_SIDE_SYSTEM, "hung up by cccd");
	}
	else if (c->inbound) {
		if (c->sess)
			(void)sipsess_reject(c->sess, 480, "Temporarily Unavailable", NULL);
		sess_release(c);
		call_end(c, CALL_CAUSE_IN_REFUSED, 0, CALL_SIDE_SYSTEM, "refused by cccd");
	}
	else {
		sess_release(c);
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

void call_peer_bye(struct call *c)
{
	c->peer_bye = true;
}

void call_detach(struct call *c)
{
	list_unlink(&c->le);
	tmr_cancel(&c->ring_tmr);
	tmr_cancel(&c->end_tmr);
	tmr_cancel(&c->trying_tmr);
	c->holds = false; /* the user agent and its trunks are going away */
	c->eh = NULL;
	c->ms = mem_deref(c->ms);
	sess_release(c);
	c->state = CALL_ENDED;
	c->ua = NULL;
}

struct media_stream *call_media(const struct call *c)
{
	return c ? c->ms : NULL;
}

const struct call_times *call_times(const struct call *c)
{
	return c ? &c->times : NULL;
}

bool call_is_inbound(const struct call *c)
{
	return c && c->inbound;
}
