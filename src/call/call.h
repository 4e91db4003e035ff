/* call: the SIP user agent on libre — trunks (routing, digest auth, registration, OPTIONS
 * health checks), outbound and inbound calls, SIP INFO DTMF, and the one table that turns a
 * call's outcome into a TCCC EndStatus.
 *
 * Threading contract: everything here runs on the control loop (libre re_main) except
 * call_conf_read, the pure helpers (call_number_ok, call_route_plan, call_failover_ok,
 * call_end_status), which touch no shared state, call_trunk_state / call_route_ok,
 * which read the trunks' health through atomics and the trunk set under the user agent's
 * route lock (ua.c), and call_conf_resolve, which blocks and runs before the loop or on a
 * reload's own thread. Nothing on the loop blocks. */
#ifndef CCCD_CALL_H
#define CCCD_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "media/media.h"

struct conf;
struct conf_err;
struct call_ua;
struct call;

/* ---- configuration --------------------------------------------------------------- */

enum { CALL_NUMBER_MAX = 32, CALL_RULES_MAX = 16, CALL_TRUNKS_MAX = 16,
       CALL_LISTEN_MAX = 4, CALL_UUI_MAX = 1024, CALL_UDP_REQUEST_MAX = 1300, CALL_WEIGHT_MAX = 1000,
       CALL_RETRY_AFTER_MAX = 3600 /* seconds a 503's Retry-After may keep a trunk out */,
       CALL_CPS_MAX = 1000 /* a trunk's calls per second, the most that can be configured */ };

enum call_transport { CALL_UDP = 0, CALL_TCP, CALL_TLS };

/* SRTP (SDES, RFC 4568) towards a trunk: off (plain RTP, an offer's a=crypto is ignored),
 * optional (offered and used when the trunk answers with a key), required (plain RTP is
 * refused: an offer without a=crypto gets 488, an answer without one fails the call). */
enum call_srtp { CALL_SRTP_OFF = 0, CALL_SRTP_OPTIONAL, CALL_SRTP_REQUIRED };

/* One dial rule: a number starting with `match` ("" matches every number) loses its first
 * `strip` characters and gains `prefix`. */
struct call_rule {
	char match[CALL_NUMBER_MAX + 1];
	unsigned strip;
	char prefix[CALL_NUMBER_MAX + 1];
};

/* Inbound source addresses (acl.c): networks as address and prefix length, IPv4 or IPv6.
 * `set` says the list was configured (possibly as "none": empty); a trunk's unset list
 * defaults to its host's addresses. */
enum { CALL_ACL_MAX = 16 };
struct call_cidr {
	uint8_t addr[16];               /* network bytes: 4 for IPv4, 16 for IPv6 */
	uint8_t len;                    /* 4 or 16 */
	uint8_t bits;                   /* prefix length */
};
struct call_acl {
	struct call_cidr v[CALL_ACL_MAX];
	unsigned n;
	bool set;
};

/* "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" (a host: /32 or /128). EINVAL for anything
 * else, a prefix longer than the address, or host bits set below the prefix. Pure. */
int call_cidr_parse(const char *s, struct call_cidr *c);
/* The address (IPv4 as 4 bytes or 16, an IPv4-mapped IPv6 address counts as its IPv4) is
 * in the network. Pure. */
bool call_cidr_match(const struct call_cidr *c, const uint8_t *addr, size_t len);
/* A comma- or blank-separated list of networks, or "none" (an empty list). EINVAL with the
 * bad item named in why. Pure. */
int call_acl_parse(const char *list, struct call_acl *acl, char *why, size_t whysz);

/* Reliable provisional responses (RFC 3262) offered to a trunk: `Supported: 100rel`, also
 * `Require: 100rel`, or neither. A provisional that requires 100rel is PRACKed whatever
 * this says. */
enum call_rel100 { CALL_REL100_SUPPORTED = 0, CALL_REL100_REQUIRED, CALL_REL100_OFF };

enum call_uui {
	CALL_UUI_CARRY,     /* sent whole */
	CALL_UUI_TRUNCATE,  /* its first uui_max bytes */
	CALL_UUI_DROP,      /* not sent; the call goes on */
	CALL_UUI_REFUSE,    /* a call with a UUI does not use this trunk */
};

/* [trunk] announcement = STATUS PATH: a recording the carrier plays before failing a call,
 * and the EndStatus (204 powerOff, 205 numberNotExist, ...) it stands for. */
enum { CALL_ANNOUNCE_MAX = 16 };
struct call_announce {
	int status;
	char path[256];
};

struct call_trunk_conf {
	char name[64];
	char host[256];                 /* IP address or DNS name */
	uint16_t port;
	enum call_transport transport;
	char proxy[280];                /* outbound proxy as a SIP URI, "" = none */
	char from_domain[256];          /* host part of From/P-Asserted-Identity, default host */
	char username[128], password[128];
	char realm[128];                /* answer challenges of this realm only; "" = any */
	bool do_register;
	unsigned register_expires;      /* seconds */
	unsigned options_interval;      /* seconds between OPTIONS health checks, 0 = none */
	unsigned priority;              /* lower is tried first; default: position in the file */
	unsigned weight;                /* share among trunks of equal priority, 1..1000 */
	struct call_acl inbound_from;   /* inbound INVITEs accepted from; unset = host */
	struct call_acl host_from;      /* the host's addresses (call_conf_resolve) */
	char inbound_username[128], inbound_password[128]; /* digest for inbound, "" = none */
	/* NAT: what cccd advertises to this trunk, resolved from [sip]/[media] external_ip and
	 * the trunk's own keys ("local" there = ""); "" = the bound address */
	char sip_external[64];          /* in Contact */
	char media_external[64];        /* in SDP c= and o= */
	enum media_latch latch;         /* symmetric_rtp */
	enum call_rel100 rel100;        /* [trunk] 100rel */
	unsigned max_channels;          /* outbound calls at once on the trunk, 0 = no limit */
	unsigned cps;                   /* INVITEs (new calls) in any 1 s, 0 = no limit */
	unsigned trying_timeout_ms;     /* UDP: no response at all this long fails the attempt
					   (0 = Timer B's 32 s); 0 for TCP */
	struct call_rule rules[CALL_RULES_MAX];
	unsigned nrules;
	enum media_codec codecs[MEDIA_CODECS_MAX]; /* offer preference, best first */
	unsigned ncodecs;               /* 0: [media] codecs */
	bool user_phone;                /* Request-URI and To as sip:NUMBER@host;user=phone */
	bool pai;                       /* send P-Asserted-Identity with the caller number */
	bool anonymous;                 /* withhold the caller: From anonymous, Privacy: id */
	/* transport = tls (docs/security.md) */
	bool tls_verify;                /* check the carrier's certificate (default true) */
	char tls_ca_file[256];          /* CAs it must chain to; "" = [sip] tls_ca_file */
	char tls_server_name[256];      /* name (or IP) the certificate must carry; SNI */
	enum call_srtp srtp;            /* [trunk] srtp */
	/* [trunk] uui: what this carrier takes of a session's UUI (User-to-User, hex) */
	enum call_uui uui;
	unsigned uui_max;               /* CALL_UUI_TRUNCATE: bytes kept, 1..CALL_UUI_MAX */
	/* [trunk] tcp_for_large: a UDP trunk whose carrier also takes TCP on the same host
	 * and port; an INVITE too large for UDP (RFC 3261 §18.1.1) goes over TCP */
	bool tcp_for_large;
	/* early media (heard.c, docs/early-media.md): listen to it, hang up on a recognised
	 * announcement or SIT, and the reference recordings and the EndStatus each means */
	bool early_listen;
	bool early_hangup;
	struct call_announce announce[CALL_ANNOUNCE_MAX];
	unsigned nannounce;
};

struct call_listen {
	char host[64];
	uint16_t port;
	bool udp, tcp;
};

struct call_conf {
	struct call_listen listen[CALL_LISTEN_MAX];
	unsigned nlisten;
	char user_agent[128];
	unsigned ring_timeout;          /* seconds, when a call gives no max_ring_s */
	unsigned ring_timeout_max;      /* seconds, upper bound for max_ring_s */
	unsigned inbound_cps;           /* new inbound calls per second, 0 = no limit */
	unsigned udp_receive_bytes;     /* SIP UDP sockets' receive buffer, 0 = kernel default */
	unsigned trunk_attempts;        /* trunks one call may try (INVITEs), 1 = no failover */
	bool libre_timers_list;         /* [sip] libre_timers = list: off the wheel (libre_tmr) */
	struct call_acl inbound_from;   /* [sip] inbound_from: peers of no trunk (an edge proxy) */
	char auth_realm[64];            /* [sip] auth_realm: the realm of inbound challenges */
	/* NAT, for peers that are no trunk (direct URIs, unknown inbound sources) */
	char sip_external[64];          /* [sip] external_ip, "" = the bound address */
	char media_external[64];        /* [media] external_ip, "" = the bound address */
	enum media_latch latch;         /* [media] symmetric_rtp */
	enum media_codec codecs[MEDIA_CODECS_MAX]; /* preference, from [media] codecs */
	unsigned session_expires;       /* RFC 4028 interval cccd asks for, 0 = asks none */
	unsigned min_se;                /* shortest interval cccd accepts (422 below it) */
	unsigned ncodecs;
	struct call_trunk_conf trunks[CALL_TRUNKS_MAX];
	unsigned ntrunks;
	/* HEPv3 export of every SIP message ([sip] hep_server = udp IP:port) */
	bool hep;
	char hep_server[64];            /* "IP:port" */
	uint32_t hep_id;                /* capture agent id */
	char hep_password[64];          /* "" = no auth key chunk */
	/* SIP over TLS ([sip] tls_listen, tls_cert, tls_key, tls_ca_file; tls.c) */
	bool tls_listen;
	char tls_host[64];
	uint16_t tls_port;
	char tls_cert[256], tls_key[256]; /* PEM: certificate chain, private key */
	char tls_ca_file[256];          /* CAs trunks' certificates chain to; "" = the system's */
};

/* Reads [sip] and every [trunk NAME] (and [media] codecs for the SDP preference). */
int call_conf_read(const struct conf *cf, struct call_conf *cc, struct conf_err *err);
/* Resolves each trunk host without inbound_from into its host_from (a DNS name through
 * getaddrinfo: blocking). call_ua_alloc resolves what is not yet resolved; a reload
 * resolves on its own thread, so the loop never waits on DNS. */
void call_conf_resolve(struct call_conf *cc);

/* ---- pure helpers ------------------------------------------------------------------ */

/* True for 1..CALL_NUMBER_MAX characters of digits with at most one leading '+': the only
 * numbers that may reach a Request-URI, a From or a P-Asserted-Identity. */
bool call_number_ok(const char *number);

/* The trunks a call to a number tries, in order, each with the number as that trunk's
 * first matching rule dials it. */
struct call_plan {
	struct call_plan_step {
		unsigned trunk;                       /* index in call_conf.trunks */
		char number[CALL_NUMBER_MAX + 1];
	} steps[CALL_TRUNKS_MAX];
	unsigned n;
};

/* Every trunk with a rule for `number` that `skip` (NULL = none) does not leave out: lower
 * priority first; trunks of equal priority in an order drawn by weight (a trunk comes first
 * with the chance of its weight over the group's sum), the draws seeded by `seed` so one
 * seed gives one order. A trunk whose rule would dial something other than a number
 * (call_number_ok) is left out. ENOENT when no trunk is left; EINVAL for a bad number, or
 * when the only matching trunks had such rules. */
int call_route_plan(const struct call_conf *cc, const char *number,
		    bool (*skip)(unsigned trunk, void *arg), void *arg, uint64_t seed,
		    struct call_plan *plan);

/* May a call whose attempt on one trunk failed this way (final response sip_code, or 0
 * and the transport's err) try the next trunk? Never after an 18x (`rang`). */
bool call_failover_ok(uint16_t sip_code, int err, bool rang);

/* The address cccd advertises for `local` (a bound SIP or RTP address) to trunk `trunk`
 * (an index in cc->trunks, or -1 for a peer that is no trunk): `local` with its IP
 * replaced by the external address configured for it, the port kept (1:1 NAT). */
void call_advertised(const struct call_conf *cc, int trunk, bool media,
		     const struct sa *local, struct sa *out);
/* Calls per second, held exactly: at most `limit` events in any window of 1000 ms. A
 * sliding window rather than a token bucket, because a bucket `limit` deep admits up to
 * 2 x limit - 1 events in some 1 s window (a full bucket spent at once, then the refill)
 * and carriers count per second. Pure: the caller passes the clock. */
struct call_rate {
	uint64_t *ts;                  /* owned (mem): the last `limit` event times, a ring */
	unsigned limit, n, head;       /* head: the oldest of the n kept */
};

/* limit 0: no limit (no memory). */
int call_rate_init(struct call_rate *r, unsigned limit);
void call_rate_close(struct call_rate *r);
/* True if an event may happen at now_ms; otherwise *wait_ms (may be NULL) is how long
 * until one may. */
bool call_rate_room(const struct call_rate *r, uint64_t now_ms, uint64_t *wait_ms);
/* An event happened at now_ms (after call_rate_room said yes). */
void call_rate_note(struct call_rate *r, uint64_t now_ms);

/* ---- outcomes ---------------------------------------------------------------------- */

enum call_side { CALL_SIDE_USER = 0, CALL_SIDE_SYSTEM };
const char *call_side_name(enum call_side side);   /* "user" / "system" */

/* How a call ended, before the table turns it into an EndStatus. */
enum call_cause {
	CALL_CAUSE_ANSWERED = 0,   /* answered, then BYE from either side (or RTP timeout) */
	CALL_CAUSE_SIP,            /* final SIP response >= 300 to our INVITE */
	CALL_CAUSE_RING_TIMEOUT,   /* ring timeout / MaxRingTimeoutSecond, or timer B */
	CALL_CAUSE_CANCEL,         /* call_hangup before answer (our CANCEL) */
	CALL_CAUSE_TRANSPORT,      /* transport error towards the trunk, no route, DNS */
	CALL_CAUSE_MEDIA,          /* answered with SDP we cannot use */
	CALL_CAUSE_IN_CANCEL,      /* inbound: the caller cancelled before we answered */
	CALL_CAUSE_IN_REFUSED,     /* inbound: call_hangup before call_answer */
};

struct call_end {
	int status;                /* TCCC EndStatus */
	const char *status_str;    /* its EndStatusString */
	enum call_side side;
};

/* THE table (status.c, mirrored in docs/sip.md): outcome → EndStatus and HungUpSide.
 * sip_code is the final response for CALL_CAUSE_SIP; rang says whether an 18x came. */
void call_end_status(enum call_cause cause, uint16_t sip_code, bool rang, enum call_side by,
		     struct call_end *out);
/* The EndStatusString of a status an early-media finding may give (an announcement's, a
 * SIT's), or NULL when it may not give that one (docs/early-media.md). */
const char *call_status_heard(int status);
/* The EndStatus a SIT variant (enum earlyaudio_sit) gives: vacant 205, intercept 215, the
 * others 208. */
int call_status_sit(int sit);

/* ---- user agent -------------------------------------------------------------------- */

struct call_incoming {
	const char *callee;        /* the dialled number (Request-URI user), call_number_ok */
	const char *caller;        /* the From user, or when the From is anonymous (no number)
				      the P-Asserted-Identity's; "" if neither is a number */
	bool withheld;             /* the caller asked for privacy (Privacy: id, or an
				      anonymous From): its number is recorded, never shown on */
	const char *uui;           /* decoded User-to-User, "" if none */
	const char *call_id;
};

enum call_event_type {
	CALL_EV_RINGING,    /* first 18x but 181/182 (outbound) */
	CALL_EV_EARLY_MEDIA, /* first 18x with SDP (outbound): the stream receives the callee
			      * side's audio before the answer; cccd sends nothing until it */
	CALL_EV_ANSWERED,   /* 200 OK and ACK: media runs */
	CALL_EV_DTMF,       /* key, ts_ms, source */
	CALL_EV_MEDIA,      /* another media event: play done, TTS ready, record done, error */
	CALL_EV_ENDED,      /* end, sip_code, reason; the call object may then be released */
};

enum call_dtmf_source { CALL_DTMF_RFC4733 = 0, CALL_DTMF_INBAND, CALL_DTMF_SIP_INFO };

struct call_times {
	int64_t start_ms;          /* INVITE sent / received (Unix ms) */
	int64_t ring_ms;           /* first 18x, 0 if none */
	int64_t answer_ms;         /* 200 OK, 0 if unanswered */
	int64_t end_ms;            /* 0 until ENDED */
};

/* What a call leaves as evidence for its record (docs/api-compatibility.md, CccdEvidence):
 * its SIP dialog, the trunk, the final answer and its media. */
struct call_evidence {
	char call_id[128];         /* of the INVITE that decided the call (the last attempt) */
	char trunk[64];            /* the trunk of that attempt, "" inbound or direct URI */
	uint16_t sip_code;         /* final response: 200 answered, 0 none (local end) */
	char sip_reason[64];       /* its reason phrase, or cccd's words for a local end */
	char remote_media[64];     /* "ip:port" RTP was sent to last, "" if none */
	char transport[4];         /* of that INVITE: "UDP", "TCP", "TLS" */
	bool srtp;                 /* the media was SRTP (SDES keys) */
	bool has_media;            /* a media stream ran: quality is filled */
	struct media_quality quality;
	/* what the early media said (heard.c): early_heard "" when nothing was heard */
	const char *early_heard;   /* "silence", "ringback", "speech", "sit", "announcement" */
	const char *early_sit;     /* the SIT's variant, "" none */
	char early_announcement[64]; /* the recognised reference's file name, "" none */
	int early_status;          /* the EndStatus the finding gives, 0 none */
};

struct call_event {
	enum call_event_type type;
	struct call_times times;            /* every event */
	char key;                           /* DTMF */
	int64_t ts_ms;                      /* DTMF: when the key started */
	enum call_dtmf_source source;       /* DTMF */
	const struct media_event *media;    /* MEDIA (valid during the handler only) */
	struct call_end end;                /* ENDED */
	uint16_t sip_code;                  /* ENDED: final response, 200 if answered, 0 local */
	const char *reason;                 /* ENDED: short text, e.g. "486 Busy Here" */
	const struct call_evidence *evidence; /* ENDED: the call's, its media's last figures */
};

typedef void (call_event_h)(struct call *c, const struct call_event *ev, void *arg);

/* An inbound INVITE to `in->callee`. Return 0 to take the call: set *ehp and *argp; the
 * handler now owns one reference to c (mem_deref after ENDED) and answers it with
 * call_answer. Return ENOENT to refuse with 404, EBUSY for 486, EAGAIN for 503 (cccd
 * cannot take calls for now: its store is unusable), any other errno for 480;
 * c is then released by the call module. */
typedef int (call_incoming_h)(struct call *c, const struct call_incoming *in,
			      call_event_h **ehp, void **argp, void *arg);

/* Listens on [sip] listen, registers trunks that need it, starts health checks. m may be
 * NULL only in signalling-only tools (calls then carry no RTP). mem_deref closes: live calls
 * are dropped without events. */
int call_ua_alloc(struct call_ua **uap, const struct call_conf *cc, struct media *m,
		  call_incoming_h *ih, void *arg);

/* Trunk state for health reports: 1 up, 0 down (health checks, registration, or a 503's
 * Retry-After not yet over), -1 not yet known. Loop only (the set may change under it). */
int call_trunk_state(const struct call_ua *ua, unsigned trunk);

/* A reload (SIGHUP): the trunks of cc ([trunk] sections; cc resolved) replace the user
 * agent's. Matched by name: an unchanged trunk keeps its registration, health and
 * channels; a new or changed one starts afresh; a removed or changed one stops its
 * registration and health checks, and the calls in progress on it keep it (they hold it)
 * until they end. New calls route through the new set. Nothing else of cc is applied
 * (the caller reports other changes as needing a restart). EINVAL with why filled when
 * the set cannot be taken (a DNS name where cccd started without a resolver): the old set
 * stays. Loop only. */
int call_ua_trunks_reload(struct call_ua *ua, const struct call_conf *cc, char *why,
			  size_t whysz);

/* A trunk's channel was freed (an outbound call on it ended or moved on): calls waiting
 * for room may be placed. Called from inside call handling: defer the dialling (a timer). */
typedef void (call_room_h)(void *arg);
void call_ua_room_handler(struct call_ua *ua, call_room_h *h, void *arg);

/* Can an INVITE to callee leave now? 0 when a trunk that would carry it has room (a free
 * channel, its cps not reached) — and also when no trunk can carry it at all, so that
 * call_originate gives the honest failure. EAGAIN when every usable trunk for it is at
 * its limits: *wait_ms is how long until one's cps allows a call, 0 when only a freed
 * channel will help (call_room_h). Loop only. */
int call_route_ready(struct call_ua *ua, const char *callee, uint64_t *wait_ms);
/* Would a call to callee take room that is counted: does any trunk that may carry it have
 * a channel or cps limit? (A call on unlimited trunks can never find its room gone.) */
bool call_route_limited(struct call_ua *ua, const char *callee);

/* Some trunk that is not known to be down has a rule for callee. Safe on any thread: the
 * API threads ask it before they accept a call. */
bool call_route_ok(const struct call_ua *ua, const char *callee);
/* Whether a call to callee with a UUI can be sent: some trunk that carries the number,
 * up or down, takes a UUI (its `uui` is not refuse); true when no trunk carries it (that
 * is call_route_ok's answer). Thread-safe like call_route_ok. */
bool call_route_uui_ok(const struct call_ua *ua, const char *callee);

struct call_params {
	const char *session_id;     /* for logs */
	const char *callee;         /* TCCC form: 0086..., +86..., 123... (through a trunk) */
	const char *uri;            /* instead of callee: a SIP URI called directly, no trunk
				       (call_uri_ok); From is then caller@our SIP address */
	const char *caller;         /* From and P-Asserted-Identity user */
	const char *uui;            /* User-to-User (sent hex-encoded), NULL = none */
	unsigned max_ring_s;        /* 0 = [sip] ring_timeout */
	const struct media_stream *near; /* a transfer leg: RTP on this stream's media worker,
					    so the two can be bridged; NULL = any worker */
};

/* True for a URI cccd may call directly: sip:user@host[:port][;transport=udp|tcp], the
 * user of RFC 3261 unreserved characters, the host a name, IPv4 or [IPv6]. Pure. */
bool call_uri_ok(const char *uri);

/* Sends the INVITE. ENOENT: no trunk can carry callee; EINVAL: a bad number, URI or UUI.
 * Events follow on eh; ENDED is always the last one. The caller owns *cp. */
int call_originate(struct call **cp, struct call_ua *ua, const struct call_params *p,
		   call_event_h *eh, void *arg);

/* Inbound: 200 OK with SDP (ANSWERED follows on the ACK). EALREADY if answered/ended. */
int call_answer(struct call *c);

/* By us: CANCEL before answer, BYE after; ENDED (side system) follows from the loop, never
 * from inside this call. No effect on an ended call. */
void call_hangup(struct call *c);

/* ---- SIP traces (trace.c) ------------------------------------------------------------ */

/* One SIP message of a call as it went on the wire. */
struct call_trace_msg {
	bool tx;                   /* sent by cccd */
	int64_t ts_us;             /* Unix microseconds */
	char src[64], dst[64];     /* "ip:port" */
	const char *text;          /* the message, NUL-terminated */
	size_t len;
};

/* A call's SIP messages for one Call-ID, handed over a few seconds after the call ended
 * (its last responses included); runs on the control loop, must not block (a queued
 * write). `dropped` counts messages over the per-call cap. */
typedef void (call_trace_h)(const char *session_id, uint64_t sdkappid, const char *call_id,
			    const struct call_trace_msg *msgs, size_t n, unsigned dropped,
			    void *arg);

/* Keeps the SIP messages of every call, at most cap_bytes of them per call, for h. */
void call_ua_trace(struct call_ua *ua, size_t cap_bytes, call_trace_h *h, void *arg);

/* Control loop, about once a second: the trunks' names and health to /metrics. */
void call_ua_metrics_publish(struct call_ua *ua);
/* The SIP listeners are bound (the user agent started). Any thread, for /readyz. */
bool call_ua_bound(const struct call_ua *ua);
/* The call's messages belong to this session: they go to the trace handler once the call
 * has ended (call it on or after ENDED, before releasing the call; without it they are
 * dropped with the call). */
void call_trace_bind(struct call *c, const char *session_id, uint64_t sdkappid);

struct media_stream *call_media(const struct call *c);
/* The evidence of a call so far (a live call: its media's figures of the moment). */
void call_evidence(const struct call *c, struct call_evidence *e);
const struct call_times *call_times(const struct call *c);
bool call_is_inbound(const struct call *c);

#endif
