/* call: what the files of the call module share and nobody else sees. */
#ifndef CCCD_CALL_INT_H
#define CCCD_CALL_INT_H

#include <stdatomic.h>
#include <re.h>
#include "call/call.h"

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

/* "ip:port" of sa in buf (64 bytes), for log lines. */
const char *call_sa_str(const struct sa *sa, char *buf, size_t sz);

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
/* Sends one datagram to the SIP UDP socket bound to laddr so that the screen finds that
 * socket before any peer's message (libre gives no other way to reach it). */
int call_screen_probe(const struct sa *laddr);

/* ---- libre's sockets among the process's descriptors (sockfind.c) ----------------------- */

/* The descriptor of type (SOCK_DGRAM, SOCK_STREAM) bound to laddr and, when paddr is not
 * NULL, connected to paddr; -1 when there is none. */
int call_sock_find(int type, const struct sa *laddr, const struct sa *paddr);

/* ---- the SIP UDP socket's receive buffer (udp_buffer.c) -------------------------------- */

/* Asks for a receive buffer of `bytes` on the process's UDP socket bound to laddr; *gotp is
 * what the kernel granted (less when net.core.rmem_max caps it and the process may not
 * pass the cap). ENOENT when no UDP socket is bound there. */
int call_udp_buffer(const struct sa *laddr, unsigned bytes, unsigned *gotp);

/* ---- SDP (sdp.c) ------------------------------------------------------------------------ */

/* One call's SDP state: local offer/answer from the media stream's address. */
struct call_sdp {
	struct sdp_session *sess;
	struct sdp_media *audio;
};

/* What offer/answer settled. */
struct call_media_params {
	struct sa remote;
	enum media_codec codec;
	int telev_pt;
	bool hold;
};

int call_sdp_init(struct call_sdp *s, const struct sa *laddr, const enum media_codec *codecs,
		  unsigned ncodecs);
void call_sdp_close(struct call_sdp *s);
/* Offer (offer=true) or answer from the current state. */
int call_sdp_encode(struct call_sdp *s, bool offer, struct mbuf **mbp);
/* Decodes the peer's SDP (offer=true when it is an offer) and settles the parameters:
 * EPROTO when no common codec or no usable address. */
int call_sdp_decode(struct call_sdp *s, struct mbuf *body, bool offer,
		    struct call_media_params *mp);

/* ---- user agent (ua.c) and calls (call.c) ---------------------------------------------- */

/* A configured trunk at run time. Owner: its call_ua (an array member).
 *
 * Its health is written by the control loop and read by the API threads too
 * (call_route_ok, before CreateIVRSession accepts a call), so `state` and `down_until_ms`
 * are atomics rather than handed over in messages: an API thread needs the value of the
 * moment, and a message round trip per request would buy nothing a load does not give.
 * Relaxed order is enough: each word is a fact of its own, no other memory is published
 * through it (the configuration the readers also use is written before the API threads
 * start), and a reader that sees one word a moment late routes a call the loop then
 * routes again with the current values (call_originate). Everything else here is the
 * loop's alone. */
struct call_trunk {
	struct call_ua *ua;
	const struct call_trunk_conf *tc;   /* in ua->cc */
	char hostport[300];                 /* "host:port" with [] around IPv6 */
	const char *tparam;                 /* ";transport=tcp" or "" */
	struct uri proxy;                   /* decoded tc->proxy when set */
	struct sipreg *reg;
	struct sip_request *opt_req;
	struct tmr opt_tmr;
	struct tmr back_tmr;                /* logs the end of a Retry-After */
	_Atomic int state;                  /* 1 up, 0 down, -1 unknown */
	_Atomic uint64_t down_until_ms;     /* clock_mono_ms until a 503's Retry-After ends */
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
	struct sip_lsnr *lsnr_first, *lsnr_last, *lsnr_resp;
	struct call_screen *screen;
	struct dnsc *dnsc;
	struct media *media;                /* not owned */
	call_incoming_h *ih;
	void *arg;
	struct list calls;                  /* live calls (struct call), not owned */
	/* inbound admission: a token bucket of [sip] inbound_cps, a second's worth deep */
	double in_tokens;
	uint64_t in_tokens_ms, in_refused_log_ms;
	unsigned in_refused;                /* since the last log line */
	call_room_h *room_h;                /* a trunk's channel was freed (the dial queue) */
	void *room_arg;
	struct call_trunk trunks[CALL_TRUNKS_MAX];
};

int call_trunk_auth(char **user, char **pass, const char *realm, void *arg);
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
void call_peer_bye(struct call *c);
/* sipsess_listen's connection handler: an INVITE that starts a dialog. */
void call_incoming(const struct sip_msg *msg, void *arg);
/* The user agent is going away: end the call without an event. */
void call_detach(struct call *c);

#endif
