/* call: session timers (RFC 4028) — Session-Expires and Min-SE negotiated on the INVITE,
 * refreshes sent at half the interval when cccd is the refresher (UPDATE when the peer
 * allows it, else a re-INVITE), and a BYE when the peer is the refresher and its refresh
 * does not come in time.
 *
 * Why cccd runs them at all: carriers' SBCs keep a call only as long as they see it
 * refreshed, and a call whose far end vanished (a crashed SBC, a lost BYE) would otherwise
 * hold a channel and an IVR until the RTP timeout notices — and not at all while the
 * stream is on hold. The timer lives in the call (one libre tmr), never in a thread.
 *
 * libre 1.1.0 answers re-INVITEs itself and lets no header into that 200, so a refresh by
 * re-INVITE is answered without Session-Expires; cccd keeps the interval it had (or the
 * one the re-INVITE asked for) and keeps watching. UPDATE is cccd's own (update.c) and is
 * answered with Session-Expires and the refresher, as the RFC asks. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "base/base.h"
#include "call/call_int.h"

int call_se_decode(const struct pl *val, uint32_t *sep, enum call_refresher *refp)
{
	struct pl num, params, r;
	const char *semi;
	uint32_t se = 0;

	if (!val || !pl_isset(val) || !sep || !refp)
		return EINVAL;
	num = *val;
	semi = pl_strchr(&num, ';');
	params = pl_null;
	if (semi) {
		params.p = semi;
		params.l = num.l - (size_t)(semi - num.p);
		num.l = (size_t)(semi - num.p);
	}
	while (num.l && (num.p[num.l - 1] == ' ' || num.p[num.l - 1] == '\t'))
		num.l--;
	while (num.l && (num.p[0] == ' ' || num.p[0] == '\t')) {
		num.p++;
		num.l--;
	}
	if (!num.l || num.l > 9)
		return EINVAL;
	for (size_t i = 0; i < num.l; i++) {
		if (num.p[i] < '0' || num.p[i] > '9')
			return EINVAL;
		se = se * 10 + (uint32_t)(num.p[i] - '0');
	}
	if (!se)
		return EINVAL;
	*refp = CALL_REFRESHER_NONE;
	if (params.l && !msg_param_decode(&params, "refresher", &r)) {
		if (!pl_strcasecmp(&r, "uac"))
			*refp = CALL_REFRESHER_UAC;
		else if (!pl_strcasecmp(&r, "uas"))
			*refp = CALL_REFRESHER_UAS;
		else
			return EINVAL;
	}
	*sep = se;
	return 0;
}

uint32_t call_min_se(const struct sip_msg *msg)
{
	const struct sip_hdr *h = msg ? sip_msg_hdr(msg, SIP_HDR_MIN_SE) : NULL;
	enum call_refresher ref;
	uint32_t v;

	/* Min-SE is delta-seconds with generic parameters: Session-Expires' syntax */
	if (!h || call_se_decode(&h->val, &v, &ref))
		return 0;
	return v;
}

struct token_find {
	const char *token;
	bool found;
};

static bool token_in_hdr(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	struct token_find *tf = arg;
	struct pl v = hdr->val, tok;

	(void)msg;
	while (!re_regex(v.p, v.l, "[ \t]*[^, \t]+[ \t]*[,]*", NULL, &tok, NULL, NULL)) {
		if (!pl_strcasecmp(&tok, tf->token)) {
			tf->found = true;
			return true;
		}
		pl_advance(&v, (size_t)(tok.p + tok.l - v.p));
		while (v.l && (v.p[0] == ',' || v.p[0] == ' ' || v.p[0] == '\t'))
			pl_advance(&v, 1);
		if (!v.l)
			break;
	}
	return false;
}

bool call_hdr_token(const struct sip_msg *msg, enum sip_hdrid id, const char *token)
{
	struct token_find tf = {token, false};

	if (!msg || !token)
		return false;
	(void)sip_msg_hdr_apply(msg, true, id, token_in_hdr, &tf);
	return tf.found;
}

/* The quoted text="..." of a Reason's parameters (msg_param_decode stops at a blank). */
static bool reason_quoted_text(const struct pl *params, struct pl *text)
{
	for (size_t i = 0; i + 6 < params->l; i++) {
		const char *p = params->p + i;

		if (p[0] != ';' && p[0] != ' ')
			continue;
		while (i + 6 < params->l && (*p == ';' || *p == ' ' || *p == '\t')) {
			p++;
			i++;
		}
		if (i + 6 < params->l && !strncasecmp(p, "text=\"", 6)) {
			const char *end = memchr(p + 6, '"', params->l - i - 6);

			if (!end)
				return false;
			text->p = p + 6;
			text->l = (size_t)(end - text->p);
			return true;
		}
	}
	return false;
}

int call_reason_text(const struct sip_msg *msg, char *out, size_t outsz)
{
	const struct sip_hdr *h = msg ? sip_msg_hdr(msg, SIP_HDR_REASON) : NULL;
	struct pl proto, params, cause, text;

	if (!out || !outsz)
		return EINVAL;
	out[0] = '\0';
	if (!h)
		return ENOENT;
	if (re_regex(h->val.p, h->val.l, "[^ \t;]+[ \t]*[^]*", &proto, NULL, &params) ||
	    msg_param_decode(&params, "cause", &cause) || !cause.l || cause.l > 5)
		return EINVAL;
	for (size_t i = 0; i < cause.l; i++) {
		if (cause.p[i] < '0' || cause.p[i] > '9')
			return EINVAL;
	}
	if (reason_quoted_text(&params, &text) && text.l)
		re_snprintf(out, outsz, "%r cause %r (%r)", &proto, &cause, &text);
	else
		re_snprintf(out, outsz, "%r cause %r", &proto, &cause);
	/* it goes into records and logs: printable text only */
	for (char *p = out; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	return 0;
}

/* ---- one call's timer ------------------------------------------------------------------ */

void call_timer_init(struct call_timer *t, struct call *c)
{
	memset(t, 0, sizeof(*t));
	t->call = c;
	wheel_tmr_init(&t->tmr);
}

void call_timer_stop(struct call_timer *t)
{
	wheel_cancel(&t->tmr);
	t->req = mem_deref(t->req);
}

void call_timer_invite_hdrs(const struct call_conf *cc, uint32_t min_se_asked,
			    const char *more, char *buf, size_t sz)
{
	uint32_t se = cc->session_expires;
	int n;

	if (se && se < min_se_asked)
		se = min_se_asked;
	if (se)
		n = re_snprintf(buf, sz, "Session-Expires: %u\r\nMin-SE: %u\r\n"
				"Supported: timer%s%s\r\nAllow: " CALL_ALLOW "\r\n", se,
				min_se_asked > cc->min_se ? min_se_asked : cc->min_se,
				more ? ", " : "", more ? more : "");
	else
		n = re_snprintf(buf, sz, "Supported: timer%s%s\r\nAllow: " CALL_ALLOW "\r\n",
				more ? ", " : "", more ? more : "");
	if (n < 0 && sz)
		buf[0] = '\0';
}

static void peer_allows(struct call_timer *t, const struct sip_msg *msg)
{
	t->laddr = msg->dst;
	t->tp = msg->tp;
	if (sip_msg_hdr(msg, SIP_HDR_ALLOW))
		t->peer_update = call_hdr_token(msg, SIP_HDR_ALLOW, "UPDATE");
	if (call_hdr_token(msg, SIP_HDR_SUPPORTED, "timer") ||
	    call_hdr_token(msg, SIP_HDR_REQUIRE, "timer"))
		t->peer_timer = true;
}

void call_timer_answered(struct call_timer *t, const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	enum call_refresher ref;
	uint32_t se;

	t->uas = false;
	peer_allows(t, msg);
	if (!h || call_se_decode(&h->val, &se, &ref)) {
		t->se = 0; /* the peer runs no timer (RFC 4028 §7.4) */
		return;
	}
	t->se = se;
	/* In a 2xx the UAS has named the refresher; without one, the UAC (cccd) does it. */
	t->we_refresh = ref != CALL_REFRESHER_UAS;
}

int call_timer_offered(struct call_timer *t, const struct call_conf *cc,
		       const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	enum call_refresher ref = CALL_REFRESHER_NONE;
	uint32_t se = 0, peer_min = call_min_se(msg);

	t->uas = true;
	peer_allows(t, msg);
	if (h && call_se_decode(&h->val, &se, &ref))
		se = 0; /* unreadable: as absent */
	if (se && se < cc->min_se)
		return EPROTO;
	if (se) {
		/* A UAS may shorten the interval, never below either side's Min-SE. */
		if (cc->session_expires && cc->session_expires < se)
			se = cc->session_expires;
	}
	else {
		se = cc->session_expires;
	}
	if (se && se < peer_min)
		se = peer_min;
	t->se = se;
	if (!se)
		return 0;
	/* The caller's choice stands; when it named none, a caller that supports timers
	 * refreshes (its refreshes are what a carrier's SBC sends). A caller that does not
	 * support them cannot be the refresher, whatever it named (RFC 4028 §9). */
	t->we_refresh = !t->peer_timer || ref == CALL_REFRESHER_UAS;
	return 0;
}

void call_timer_reply_hdrs(const struct call_timer *t, bool update, char *buf, size_t sz)
{
	int n;

	/* In a 2xx, refresher=uac names the sender of the request it answers. For the INVITE
	 * of an inbound call that is the peer; for the peer's UPDATE also the peer. */
	if (t->se && (t->peer_timer || update))
		n = re_snprintf(buf, sz, "Session-Expires: %u;refresher=%s\r\nRequire: timer\r\n"
				"Supported: timer\r\nAllow: " CALL_ALLOW "\r\n", t->se,
				t->we_refresh ? "uas" : "uac");
	else if (t->se)
		n = re_snprintf(buf, sz, "Session-Expires: %u;refresher=uas\r\n"
				"Supported: timer\r\nAllow: " CALL_ALLOW "\r\n", t->se);
	else
		n = re_snprintf(buf, sz, "Supported: timer\r\nAllow: " CALL_ALLOW "\r\n");
	if (n < 0 && sz)
		buf[0] = '\0';
}

static void timer_fire(void *arg);

static void timer_arm(struct call_timer *t)
{
	uint64_t ms;

	if (!t->se) {
		wheel_cancel(&t->tmr);
		return;
	}
	if (t->we_refresh) {
		ms = t->se * 500ull;
	}
	else {
		/* RFC 4028 §10: BYE at the interval less min(32 s, a third of it) */
		uint32_t margin = t->se / 3 < 32 ? t->se / 3 : 32;

		ms = (t->se - margin) * 1000ull;
	}
	wheel_start(&t->tmr, ms, timer_fire, t);
}

static void update_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct call_timer *t = arg;
	struct call *c = t->call;
	const struct sip_hdr *h;
	enum call_refresher ref;
	uint32_t se;

	/* t->req: libre clears it before a final response reaches us (and frees the request
	 * after this handler) */
	if (!err && msg->scode < 200)
		return;
	if (err || msg->scode == 408 || msg->scode == 481) {
		char why[64];

		if (err)
			re_snprintf(why, sizeof(why), "session refresh failed: %m", err);
		else
			re_snprintf(why, sizeof(why), "session refresh answered %u", msg->scode);
		call_session_expired(c, why);
		return;
	}
	if (msg->scode == 422) {
		uint32_t min = call_min_se(msg);

		if (min > t->se) {
			log_info("call", "%s: refresh refused 422: interval now %u s", call_sid(c),
				 min);
			t->se = min;
			wheel_start(&t->tmr, 0, timer_fire, t);
		}
		return;
	}
	if (msg->scode >= 300) {
		/* the session goes on; the next refresh is due at the next half interval */
		log_warn("call", "%s: session refresh UPDATE answered %u", call_sid(c),
			 msg->scode);
		return;
	}
	/* a 2xx may change the interval or hand the refreshes over (refresher=uac names the
	 * sender of the refresh: cccd) */
	h = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	if (h && !call_se_decode(&h->val, &se, &ref)) {
		t->se = se;
		t->we_refresh = ref != CALL_REFRESHER_UAS;
		timer_arm(t);
	}
}

/* Our refresh. UPDATE needs no offer/answer and cannot glare with an INVITE transaction
 * the peer holds; a re-INVITE is the fallback every peer understands. */
static int refresh_send(struct call_timer *t)
{
	struct call *c = t->call;
	struct sipsess *sess = call_sess(c);
	struct sip_dialog *dlg = sipsess_dialog(sess);
	struct call_ua *ua = call_ua_of(c);
	struct sip_contact contact;
	struct sa adv;
	struct mbuf *offer = NULL;
	int err;

	if (!dlg || !ua)
		return ENOENT;
	if (t->peer_update) {
		if (t->req)
			return 0; /* the last one still waits for its answer */
		call_contact_addr(c, &t->laddr, &adv);
		sip_contact_set(&contact, "cccd", &adv, t->tp);
		return sip_drequestf(&t->req, ua->sip, true, "UPDATE", dlg, 0, NULL, NULL,
				     update_resp, t,
				     "%H"
				     "Session-Expires: %u;refresher=uac\r\n"
				     "Supported: timer\r\n"
				     "Content-Length: 0\r\n"
				     "\r\n",
				     sip_contact_print, &contact, t->se);
	}
	err = call_offer_make(c, &offer);
	err = err ? err : sipsess_modify(sess, offer);
	mem_deref(offer);
	return err;
}

static void timer_fire(void *arg)
{
	struct call_timer *t = arg;
	int err;

	if (!t->we_refresh) {
		log_warn("call", "%s: no session refresh from the peer within %u s: hanging up",
			 call_sid(t->call), t->se);
		call_session_expired(t->call, "session timer expired");
		return;
	}
	err = refresh_send(t);
	if (err)
		log_warn("call", "%s: cannot send the session refresh: %s", call_sid(t->call),
			 strerror(err));
	else
		log_debug("call", "%s: session refresh %u sent (%s)", call_sid(t->call),
			  ++t->refreshes, t->peer_update ? "UPDATE" : "re-INVITE");
	timer_arm(t);
}

void call_timer_start(struct call_timer *t)
{
	if (!t->se)
		return;
	log_info("call", "%s: session timer %u s, refreshed by %s", call_sid(t->call), t->se,
		 t->we_refresh ? "cccd" : "the peer");
	timer_arm(t);
}

int call_timer_refreshed(struct call_timer *t, const struct call_conf *cc,
			 const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	enum call_refresher ref;
	uint32_t se;

	if (h && !call_se_decode(&h->val, &se, &ref)) {
		if (se < cc->min_se)
			return EPROTO;
		t->se = se;
		/* refresher=uac names the sender of this request: the peer */
		t->we_refresh = ref == CALL_REFRESHER_UAS;
	}
	if (!t->se)
		return 0;
	t->refreshes++;
	log_debug("call", "%s: session refreshed by the peer (%u)", call_sid(t->call),
		  t->refreshes);
	timer_arm(t);
	return 0;
}
