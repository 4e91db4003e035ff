/* call: what the files of the call module share and nobody else sees. */
#ifndef CCCD_CALL_INT_H
#define CCCD_CALL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <re.h>
#include "call/call.h"
#include "conf/conf.h"
#include "earlyaudio/earlyaudio.h"
#include "wheel/wheel.h"

/* ---- message helpers (msg.c): pure, fuzzed by fuzz/fuzz_sip.c ----------------------- */

/* The key of a SIP INFO DTMF body: application/dtmf-relay ("Signal=5") or application/dtmf
 * ("5"). ENOTSUP for another content type (answer 415), EBADMSG for a bad body (400). */
int call_info_dtmf(const struct sip_msg *msg, char *keyp);

/* User-to-User: hex-encode for sending; decode a received header value (hex, the RFC 7433
 * default encoding) into printable text. EINVAL for what cannot be carried. */
int call_uui_hex(const char *uui, char *out, size_t outsz);
int call_uui_decode(const struct sip_msg *msg, char *out, size_t outsz);

/* The user part of a URI when it is a number (call_number_ok), else EINVAL. Visual
 * separators allowed by RFC 3966 ('-', '.', '(', ')') are dropped first. */
int call_uri_number(const struct uri *uri, char *out, size_t outsz);

/* The seconds of a response's Retry-After (at most CALL_RETRY_AFTER_MAX); 0 when it has
 * none or an unreadable one. In route.c. */
uint32_t call_retry_after(const struct sip_msg *msg);

/* ---- SIP over TLS (tls.c) ------------------------------------------------------------ */

struct call_tls;
struct conf_section;
/* Config time: the [sip] tls_cert and tls_key load and belong together. */
int call_tls_check(const struct call_conf *cc, const struct conf_section *sip,
		   struct conf_err *err);
/* The context of [sip] tls_listen and every TLS trunk, each trunk's certificate checks
 * (its addresses resolved now: blocking, before the loop runs). cc must outlive it. */
int call_tls_alloc(struct call_tls **ctp, const struct call_conf *cc);
struct tls *call_tls_context(const struct call_tls *ct);

/* "ip:port" of sa in buf (64 bytes), for log lines. */
const char *call_sa_str(const struct sa *sa, char *buf, size_t sz);

/* The first Via of the request in mb (pos..end) with the sent-by laddr written as adv
 * instead; anything else (a response, another sent-by) left as it is. 0 or ENOMEM. Pure;
 * via.c. */
int call_via_advertise(struct mbuf *mb, const struct sa *laddr, const struct sa *adv);

/* ---- raw message screening (frame.c): pure, fuzzed by fuzz/fuzz_sip_frame.c ------------ */

/* What the bytes of one SIP message say before a parser reads them. */
struct call_frame {
	bool req;               /* a request (else a response, never answered) */
	uint16_t scode;         /* 0 when sound, else the answer: 400, or 505 for a version */
	const char *reason;     /* the reason phrase naming the fault (static) */
	size_t hdr_len;         /* start line and headers, the empty line included */
	size_t body_len;        /* the body's length as Content-Length frames it */
	bool desync;            /* Content-Length unreadable or beyond the datagram: where
				 * this message ends (on a stream: the next starts) is in doubt */
};

/* The reason of a malformed status line (a response: never answered, dropped). */
#define CALL_FRAME_BAD_STATUS "Malformed Status-Line"

/* Judges the message p..n: a whole UDP datagram (datagram=true: Content-Length may be
 * absent, may not exceed what follows; octets after the body are to be discarded), or one
 * message as framed on a stream. Framing (start line, line ends, Content-Length) and, for
 * a request, the syntax of the headers cccd relies on (Via, From, To, Contact, CSeq,
 * Max-Forwards). 0 with *f filled, EINVAL for bad arguments. */
int call_frame_check(const char *p, size_t n, bool datagram, struct call_frame *f);

/* Appends to mb a stateless response to the raw request p..n: its status line, the
 * request's Via, From, To (a tag added), Call-ID and CSeq lines. ENOENT when one of those
 * is missing (nowhere to address the response: drop the request). */
int call_frame_reply(struct mbuf *mb, const char *p, size_t n, uint16_t scode,
		     const char *reason);

/* What a decoded request asks that cccd does not serve: *scodep 0, or 416 when the
 * Request-URI is not sip: or sips:, with *reasonp. */
int call_frame_request(const struct sip_msg *msg, uint16_t *scodep, const char **reasonp);

/* ---- refusing malformed messages on libre's sockets (screen.c) -------------------------- */

struct call_screen;

/* Screens what arrives on sip's transports; listeners it adds run before those added after
 * it. Free it before sip: it holds helpers on sip's UDP sockets. */
int call_screen_alloc(struct call_screen **scrp, struct sip *sip);
/* Every datagram sent on the screened UDP sockets passes h (its bytes may be changed);
 * laddr is the socket's address. */
typedef void (call_screen_send_h)(const struct sa *laddr, const struct sa *dst,
				  struct mbuf *mb, void *arg);
void call_screen_on_send(struct call_screen *scr, call_screen_send_h *h, void *arg);
/* Sends one datagram to the SIP UDP socket bound to laddr so that the screen finds that
 * socket before any peer's message (libre gives no other way to reach it). */
int call_screen_probe(const struct sa *laddr);

/* ---- inbound screening: source addresses and digest (acl.c) ----------------------------- */

struct call_trunk;
/* The trunk's inbound source list: inbound_from, else its host's addresses (resolved
 * now: blocking, at start only). */
int call_acl_trunk_init(struct call_trunk *t);
/* Draws the key of the stateless digest nonces. */
int call_acl_nonce_init(struct call_ua *ua);
/* True when the new INVITE msg is not from a trunk and has been answered here (403,
 * or 401 asking for credentials), statelessly; counted and logged as a refusal. */
bool call_acl_refused(struct call_ua *ua, const struct sip_msg *msg);

/* ---- libre's sockets among the process's descriptors (sockfind.c) ----------------------- */

/* The descriptor of type (SOCK_DGRAM, SOCK_STREAM) bound to laddr and, when paddr is not
 * NULL, connected to paddr; -1 when there is none. */
int call_sock_find(int type, const struct sa *laddr, const struct sa *paddr);

/* ---- the SIP UDP socket's receive buffer (udp_buffer.c) -------------------------------- */

/* Asks for a receive buffer of `bytes` on the process's UDP socket bound to laddr; *gotp is
 * what the kernel granted (less when net.core.rmem_max caps it and the process may not
 * pass the cap). ENOENT when no UDP socket is bound there. */
int call_udp_buffer(const struct sa *laddr, unsigned bytes, unsigned *gotp);

/* ---- HEPv3 export to a capture server (hep.c) ------------------------------------------- */

struct call_hep;

/* One SIP message as HEP carries it. */
struct call_hep_msg {
	bool tcp;
	const struct sa *src, *dst;   /* one address family */
	uint64_t ts_us;               /* Unix microseconds */
	uint32_t agent_id;
	const char *password;         /* auth key chunk, NULL or "" = none */
	const char *call_id;          /* correlation id chunk, NULL or "" = none */
	const uint8_t *pkt;
	size_t len;
};

/* A non-blocking UDP socket towards the capture server. */
int call_hep_alloc(struct call_hep **hp, const struct sa *server, uint32_t agent_id,
		   const char *password);
/* The HEPv3 packet of m in buf; its length, 0 when it does not fit. Pure. */
size_t call_hep_encode(uint8_t *buf, size_t sz, const struct call_hep_msg *m);
/* The Call-ID (or compact i:) header's value of a raw SIP message: 0, ENOENT when it has
 * none, EINVAL when it is empty or longer than outsz. Pure. */
int call_sip_callid(const uint8_t *pkt, size_t len, char *out, size_t outsz);
/* Retry-After of the 503 a draining node answers inbound INVITEs with: long enough that a
 * trunk tries another node rather than this one again at once. */
enum { CALL_DRAIN_RETRY_AFTER_S = 60 };

/* count.c: counts a message sent (tx) or received for /metrics (control loop). */
void call_count_msg(bool tx, const uint8_t *pkt, size_t len);
/* Sends one message to the capture server, never waiting (control loop). */
void call_hep_send(struct call_hep *h, bool tcp, const struct sa *src, const struct sa *dst,
		   const uint8_t *pkt, size_t len);

/* ---- SIP traces per call (trace.c) ------------------------------------------------------ */

/* A message seen by libre's trace handler (control loop). */
void call_trace_msg(struct call_ua *ua, bool tx, const struct sa *src, const struct sa *dst,
		    const uint8_t *pkt, size_t len);
/* A new dialog of a call: its messages (those already seen too) go to a new trace on the
 * call's list; call_bytes is the call's total against the cap. */
int call_trace_open(struct call_ua *ua, struct list *call_traces, size_t *call_bytes,
		    const char *callid);
void call_trace_bind_list(struct list *call_traces, const char *session_id, uint64_t sdkappid);
void call_trace_drop_list(struct list *call_traces);
/* The user agent goes: lingering traces are handed over, the rest dropped. */
void call_trace_close(struct call_ua *ua);

/* ---- SDP (sdp.c) ------------------------------------------------------------------------ */

/* One call's SDP state: local offer/answer from the media stream's address. */
struct call_sdp {
	struct sdp_session *sess;
	struct sdp_media *audio;
	enum media_codec prefer[MEDIA_CODECS_MAX]; /* ours, best first */
	unsigned nprefer;
	enum call_srtp srtp;                /* the trunk's [trunk] srtp */
	uint8_t key[MEDIA_SRTP_KEY_LEN];    /* cccd's SRTP master key and salt (SDES) */
};

/* What offer/answer settled. */
struct call_media_params {
	struct sa remote;
	enum media_codec codec;
	int pt;                 /* the codec's payload type (Opus: dynamic) */
	int telev_pt;           /* telephone-event at the codec's clock rate, or -1 */
	bool hold;
	struct media_srtp srtp; /* suite NONE: plain RTP */
};

/* srtp: what the trunk asks (CALL_SRTP_OFF for peers of no trunk). Not off: a fresh
 * random key, offered in a=crypto (on RTP/SAVP when required, else on RTP/AVP, as
 * carriers that take SRTP optionally expect). */
int call_sdp_init(struct call_sdp *s, const struct sa *laddr, const enum media_codec *codecs,
		  unsigned ncodecs, enum call_srtp srtp);
void call_sdp_close(struct call_sdp *s);
/* Offer (offer=true) or answer from the current state. */
int call_sdp_encode(struct call_sdp *s, bool offer, struct mbuf **mbp);
/* Decodes the peer's SDP (offer=true when it is an offer) and settles the parameters:
 * EPROTO when no common codec or no usable address; EACCES when the media would not be
 * encrypted although the trunk requires SRTP (no usable a=crypto), or an RTP/SAVP offer
 * has no a=crypto cccd can use. */
int call_sdp_decode(struct call_sdp *s, struct mbuf *body, bool offer,
		    struct call_media_params *mp);

/* ---- cccd's own CANCEL with a Reason (cancel.c) ---------------------------------------- */

/* The CANCEL is over: the INVITE got its final response (answered: a 2xx that crossed
 * the CANCEL, to be ended with a BYE), or nothing came in time (libre is to cancel). The
 * call then releases its session; from the loop, outside libre's handlers. */
typedef void (call_cancel_done_h)(bool answered, void *arg);

/* One outbound attempt's INVITE as sent, and the CANCEL of it. Owner: its call. */
struct call_cancel {
	struct le le;                 /* in ua->cancels while one is under way */
	struct call_ua *ua;
	const char *sid;              /* the call's, for logs */
	struct mbuf *invite;          /* the current attempt's INVITE as it left */
	enum sip_transp tp;
	struct sa dst;                /* where it went */
	bool provisional;             /* a provisional response came: a CANCEL may go */
	bool pending, sent, answered;
	struct mbuf *mb;              /* the CANCEL */
	char callid[128], branch[64];
	uint32_t txc;
	struct wheel_tmr tmr, give_up;
	struct tmr done;             /* a zero delay: stays on libre (wheel.c says why) */
	call_cancel_done_h *doneh;
	void *arg;
};

void call_cancel_init(struct call_cancel *k);
void call_cancel_close(struct call_cancel *k);
/* A new attempt: its INVITE is still to be seen. */
void call_cancel_reset(struct call_cancel *k);
/* The INVITE of the attempt left (libre's trace handler): kept for its CANCEL. */
void call_cancel_invite(struct call_cancel *k, enum sip_transp tp, const struct sa *dst,
			const uint8_t *pkt, size_t len);
/* Starts cccd's CANCEL with `reason` (a Reason header value): sent now if the INVITE got
 * a provisional response, else on the first. ENOENT when the INVITE was not seen, or an
 * error building it: the caller then lets libre cancel. */
int call_cancel_start(struct call_cancel *k, struct call_ua *ua, const char *sid,
		      const char *reason, call_cancel_done_h *doneh, void *arg);
/* The INVITE got a provisional response / its final one. */
void call_cancel_provisional(struct call_cancel *k);
void call_cancel_final(struct call_cancel *k, bool answered);
/* A response to one of cccd's CANCELs (a response listener): true when it was one. */
bool call_cancel_response(struct call_ua *ua, const struct sip_msg *msg);

/* libre's trace handler saw an INVITE leave (ua.c): to the outbound call that sent it. */
void call_invite_sent(struct call_ua *ua, enum sip_transp tp, const struct sa *dst,
		      const uint8_t *pkt, size_t len);

/* ---- early dialogs of an outbound INVITE (early.c, fork.c) ---------------------------- */

enum { CALL_FORKS_MAX = 8 };   /* early dialogs one INVITE's PRACK state follows */

/* One early dialog (a To tag of the INVITE's provisional responses). */
struct call_fork {
	char rtag[64];
	uint32_t rseq;                /* the RSeq last PRACKed; 0 before the first */
	bool bye_sent;                /* its 2xx lost to another fork's: BYE sent */
};

/* What an outbound call knows of its INVITE's early dialogs. Owner: the call. libre 1.1.0's
 * sessions neither PRACK a reliable provisional response nor notice a 2xx from a second
 * fork; these fill the gap beside the session. */
struct call_early {
	struct sip_dialog *dlg;       /* the session's dialog (a reference): Call-ID, our tag,
				       * our CSeq, and once answered the winning fork's tag */
	struct call_fork forks[CALL_FORKS_MAX];
	unsigned nforks;
	const char *sid;              /* for logs; the call's */
};

/* What an outbound call heard in its early media (heard.c, docs/early-media.md). Owner: the
 * call; reset by each attempt. */
struct call_heard {
	enum earlyaudio_heard heard;  /* the weightiest finding so far */
	enum earlyaudio_sit sit;
	int status;                   /* the EndStatus an announcement or SIT gives, 0 none */
	char name[64];                /* the recognised reference's file name */
	bool listening;
	const char *sid;              /* for logs; the call's */
};

/* [trunk] early_listen, early_hangup and announcement lines; each announcement's file is
 * loaded (blocking: the configuration is read at start and on the reload thread). */
int call_heard_conf_read(const struct conf_section *sec, struct call_trunk_conf *tc,
			 struct conf_err *err);
/* Starts listening to the stream's early media when the trunk asks for it (once). */
void call_heard_start(struct call_heard *h, struct media_stream *ms,
		      const struct call_trunk_conf *tc, const char *sid);
/* Stops at the answer (a no-op when not listening). */
void call_heard_stop(struct call_heard *h, struct media_stream *ms);
/* A listener's finding: kept when weightier than the last. True when it gives an EndStatus
 * and the trunk says to hang up on it (early_hangup). */
bool call_heard_take(struct call_heard *h, const struct call_trunk_conf *tc,
		     const struct media_heard *mh);
/* How the finding changes an unanswered outbound call's end: the carrier failing the
 * call, cccd's ring timeout or CANCEL take the announcement's or SIT's status. */
void call_heard_end(const struct call_heard *h, enum call_cause cause, struct call_end *end);
void call_heard_evidence(const struct call_heard *h, struct call_evidence *e);

/* For a trunk's [trunk] 100rel: the option tag its INVITEs list in Supported (NULL for
 * none), and the Require line they carry ("" for none). An INVITE has one Supported line
 * (call_timer_invite_hdrs writes it): strict parsers read only the first. */
const char *call_rel100_tag(enum call_rel100 rel);
const char *call_rel100_hdr(enum call_rel100 rel);
/* Follows a new INVITE's session (dlg: sipsess_dialog of it); drops the last one's state. */
void call_early_start(struct call_early *e, struct sip_dialog *dlg, const char *sid);
void call_early_close(struct call_early *e);
/* The early dialog of To tag rtag, added when new; NULL without a tag or when
 * CALL_FORKS_MAX are followed already. */
struct call_fork *call_early_fork(struct call_early *e, const struct pl *rtag);
/* A provisional response to the INVITE: PRACKs it when it is reliable (Require: 100rel and
 * RSeq, RFC 3262) and the next in its early dialog. 0, or an errno when a PRACK was due but
 * could not be sent (logged). */
int call_early_prack(struct call_early *e, struct sip *sip, const struct sip_msg *msg);
/* Sends a request inside the dialog the response `resp` makes (RFC 3261 §12.1.2 seen from
 * the UAC): its Contact as target, its Record-Route reversed as route set, its From, To and
 * Call-ID; `hdrs` are further header lines. */
int call_early_request(struct sip *sip, const struct sip_msg *resp, const char *met,
		       uint32_t cseq, bool stateful, sip_resp_h *resph, void *arg,
		       const char *hdrs);
/* The response listener for 2xx to INVITE (ua.c, before libre's sessions): a 2xx from a
 * fork other than the one that answered first gets ACK and BYE (RFC 3261 §13.2.2.4), never
 * a second call. true when it took the message. */
bool call_fork_2xx(struct call_ua *ua, const struct sip_msg *msg);
/* The early-dialog state of a live outbound call, NULL for others (call.c). */
struct call_early *call_early_of(struct call *c);

/* ---- session timers (timer.c, RFC 4028) and UPDATE (update.c, RFC 3311) ----------------- */

/* What cccd allows and supports in a dialog: every INVITE, 2xx and OPTIONS answer says it. */
#define CALL_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"

/* Who refreshes the session, as a Session-Expires' refresher parameter names it. */
enum call_refresher { CALL_REFRESHER_NONE = 0, CALL_REFRESHER_UAC, CALL_REFRESHER_UAS };

/* A Session-Expires value "1800;refresher=uac": the interval and the refresher (NONE when
 * the parameter is absent). EINVAL for anything else, or an interval of 0. Pure. */
int call_se_decode(const struct pl *val, uint32_t *sep, enum call_refresher *refp);
/* The delta-seconds of msg's Min-SE; 0 when it has none or an unreadable one. Pure. */
uint32_t call_min_se(const struct sip_msg *msg);
/* Does a header of msg (Allow, Supported, Require: comma lists) carry token? Pure. */
bool call_hdr_token(const struct sip_msg *msg, enum sip_hdrid id, const char *token);
/* The peer's Reason header (RFC 3326) as text for a record: "Q.850 cause 16 (Normal call
 * clearing)", "SIP cause 487"; ENOENT when msg has none, EINVAL when unreadable. Pure. */
int call_reason_text(const struct sip_msg *msg, char *out, size_t outsz);

/* One call's session timer. Owner: its struct call (a member). se 0: no session timer. */
struct call_timer {
	struct call *call;
	uint32_t se;                 /* negotiated interval, seconds */
	bool we_refresh;             /* cccd refreshes (else the peer does, and cccd watches) */
	bool uas;                    /* cccd is the dialog's UAS (an inbound call) */
	bool peer_timer;             /* the peer said Supported: timer */
	bool peer_update;            /* the peer's Allow lists UPDATE: refresh with it */
	struct sa laddr;             /* our address in the dialog, for Contact */
	enum sip_transp tp;
	struct sip_request *req;     /* our refresh UPDATE in flight */
	struct wheel_tmr tmr;        /* next refresh (we_refresh) or the expiry */
	unsigned refreshes;          /* refreshes sent or received, for the log */
};

void call_timer_init(struct call_timer *t, struct call *c);
void call_timer_stop(struct call_timer *t);
/* Headers for an outbound INVITE: Session-Expires (cc's, at least min_se_asked, the Min-SE
 * of a 422), Min-SE, Allow, and its one Supported line: timer, then `more` (another option
 * tag such as 100rel, or NULL). Into buf; "" when buf is too small. */
void call_timer_invite_hdrs(const struct call_conf *cc, uint32_t min_se_asked,
			    const char *more, char *buf, size_t sz);
/* Our INVITE's 2xx: the interval and refresher the peer chose (none when its 2xx names no
 * Session-Expires), the peer's Allow. */
void call_timer_answered(struct call_timer *t, const struct sip_msg *msg);
/* An inbound INVITE: EPROTO when its Session-Expires is below [sip] min_se (answer 422
 * with Min-SE: cc->min_se); else 0 with the interval and refresher settled. */
int call_timer_offered(struct call_timer *t, const struct call_conf *cc,
		       const struct sip_msg *msg);
/* Headers for our 2xx to an INVITE or UPDATE: Session-Expires with the refresher (when a
 * timer runs), Require: timer (when the peer supports it), Supported, Allow. */
void call_timer_reply_hdrs(const struct call_timer *t, bool update, char *buf, size_t sz);
/* The dialog is up: run the timer (refresh at half the interval, or watch for the peer's
 * refresh until the interval less min(32 s, a third) is over). */
void call_timer_start(struct call_timer *t);
/* A refresh from the peer (re-INVITE or UPDATE): adopt its Session-Expires (EPROTO when it
 * is below cc->min_se: answer 422) and start the interval again. */
int call_timer_refreshed(struct call_timer *t, const struct call_conf *cc,
			 const struct sip_msg *msg);

/* An in-dialog UPDATE (ua.c's first listener): answered here, its SDP offer applied. */
void call_update_recv(struct call_ua *ua, const struct sip_msg *msg);

/* call_advertised for a trunk's settings (NULL: a peer that is no trunk), as a call
 * holds them: the trunk's index may mean another trunk after a reload. */
void call_advertised_tc(const struct call_conf *cc, const struct call_trunk_conf *tc,
			bool media, const struct sa *local, struct sa *out);

/* ---- user agent (ua.c) and calls (call.c) ---------------------------------------------- */

/* A configured trunk at run time, with its own copy of its settings. Owners: the user
 * agent while the trunk is in its current set, and every call that planned a route
 * through it or follows its NAT keys (a mem reference each, taken and dropped on the
 * loop only): a reload that changes or removes the trunk retires it — no registration, no
 * health checks — and the calls in progress on it keep it until they end.
 *
 * Its health is written by the control loop and read by the API threads too
 * (call_route_ok, before CreateIVRSession accepts a call), so `state` and `down_until_ms`
 * are atomics rather than handed over in messages: an API thread needs the value of the
 * moment, and a message round trip per request would buy nothing a load does not give.
 * Relaxed order is enough: each word is a fact of its own, no other memory is published
 * through it (the settings the readers also use are read under the user agent's
 * route_lock, which a reload takes to swap the set), and a reader that sees one word a
 * moment late routes a call the loop then routes again with the current values
 * (call_originate). Everything else here is the loop's alone. */
struct call_trunk {
	struct call_ua *ua;
	struct call_trunk_conf conf;        /* its settings, as when it started */
	const struct call_trunk_conf *tc;   /* &conf */
	char hostport[300];                 /* "host:port" with [] around IPv6 */
	const char *tparam;                 /* ";transport=tcp", ";transport=tls" or "" */
	struct uri proxy;                   /* decoded tc->proxy when set */
	struct sipreg *reg;
	struct sip_request *opt_req;
	struct wheel_tmr opt_tmr;
	struct wheel_tmr back_tmr;               /* logs the end of a Retry-After */
	_Atomic int state;                  /* 1 up, 0 down, -1 unknown */
	_Atomic uint64_t down_until_ms;     /* clock_mono_ms until a 503's Retry-After ends */
	struct call_acl from;               /* inbound source addresses (acl.c) */
	bool reg_failed;
	/* the carrier's limits (tc->max_channels, tc->cps): outbound attempts holding the
	 * trunk now, and the times of its last INVITEs */
	unsigned channels;
	struct call_rate rate;
};

/* Owner: whoever called call_ua_alloc. */
struct call_ua {
	struct call_conf cc;
	struct sip *sip;
	struct sipsess_sock *sock;
	struct sip_lsnr *lsnr_first, *lsnr_last, *lsnr_resp, *lsnr_fork;
	struct call_screen *screen;
	struct call_hep *hep;               /* owned; NULL without [sip] hep_server */
	struct call_tls *tls;               /* owned; NULL without [sip] tls_listen */
	/* SIP traces (trace.c): off while trace_h is NULL */
	call_trace_h *trace_h;
	void *trace_arg;
	size_t trace_cap;                   /* bytes per call */
	struct hash *traces;                /* struct call_trace by Call-ID, owned */
	struct list trace_orphans;          /* recent unmatched messages, owned */
	struct dnsc *dnsc;
	struct media *media;                /* not owned */
	call_incoming_h *ih;
	void *arg;
	struct list calls;                  /* live calls (struct call), not owned */
	struct call *inviting;              /* sending its first INVITE now (call.c) */
	struct list cancels;                /* cccd's CANCELs under way (cancel.c), not owned */
	/* inbound admission: a token bucket of [sip] inbound_cps, a second's worth deep */
	double in_tokens;
	uint64_t in_tokens_ms, in_refused_log_ms;
	unsigned in_refused;                /* since the last log line */
	uint8_t nonce_key[20];              /* inbound digest nonces' HMAC key (acl.c) */

	call_room_h *room_h;                /* a trunk's channel was freed (the dial queue) */
	void *room_arg;
	/* The current trunk set: trunks[i] runs cc.trunks[i] (one reference each). The loop
	 * reads both freely; the API threads read them (call_route_ok) only under route_lock
	 * taken for reading, and a reload swaps them under it taken for writing — the only
	 * time the loop takes it, so the loop never waits on it otherwise. */
	struct call_trunk *trunks[CALL_TRUNKS_MAX];
	pthread_rwlock_t route_lock;
	bool route_lock_init;
};

int call_trunk_auth(char **user, char **pass, const char *realm, void *arg);
/* The index of the first trunk whose host is src's IP (trunks named by IP only), or -1:
 * whose NAT keys an inbound call from src follows. */
int call_trunk_at(const struct call_ua *ua, const struct sa *src);
/* Can the trunk take a call now (not down, no Retry-After running)? Any thread. */
bool call_trunk_usable(const struct call_trunk *t);
/* May an attempt start on the trunk now: a channel free and its cps not reached? If not,
 * *wait_ms (may be NULL) is how long until its cps allows one, 0 when a channel must
 * free first. Loop only, like the two below. */
bool call_trunk_room(const struct call_trunk *t, uint64_t now_ms, uint64_t *wait_ms);
/* An attempt starts on the trunk: it holds a channel and counts for its cps. */
void call_trunk_take(struct call_trunk *t, uint64_t now_ms);
/* The attempt that held a channel of the trunk is over; the user agent's room handler
 * hears of it. */
void call_trunk_give(struct call_trunk *t);
/* What an INVITE's failure says about the trunk's health (loop only): a 503 with
 * Retry-After keeps it out that long; no response or a transport error takes it out until
 * its health checks see it answer (only when it has them: nothing else would put it back). */
void call_trunk_invite_failed(struct call_trunk *t, int err, const struct sip_msg *msg);
/* The live call whose dialog msg belongs to, or NULL. */
struct call *call_find(struct call_ua *ua, const struct sip_msg *msg);
/* A BYE (or CANCEL) from the peer, with its Reason noted for the record. */
void call_peer_bye(struct call *c, const struct sip_msg *msg);
/* The live inbound call an INVITE's CANCEL is for (Call-ID and From tag), or NULL. */
struct call *call_find_cancelled(struct call_ua *ua, const struct sip_msg *msg);
/* What timer.c and update.c need of a call. */
struct sipsess *call_sess(const struct call *c);
struct call_ua *call_ua_of(const struct call *c);
/* The address to put in a Contact of this call's dialog for the local SIP address `local`:
 * the advertised one of the call's trunk (behind a NAT), else `local`. */
void call_contact_addr(const struct call *c, const struct sa *local, struct sa *out);
const char *call_sid(const struct call *c);
/* The peer's SDP offer in msg (UPDATE): applied to the media, the answer in *descp. */
int call_offer_take(struct call *c, const struct sip_msg *msg, struct mbuf **descp);
/* Our SDP offer for a refresh re-INVITE. */
int call_offer_make(struct call *c, struct mbuf **descp);
/* The session timer ran out (no refresh from the peer, or our refresh got 408/481): BYE. */
void call_session_expired(struct call *c, const char *why);
struct call_timer *call_timer_of(struct call *c);
/* sipsess_listen's connection handler: an INVITE that starts a dialog. */
void call_incoming(const struct sip_msg *msg, void *arg);
/* The user agent is going away: end the call without an event. */
void call_detach(struct call *c);

#endif
