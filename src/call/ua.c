/* call: the SIP user agent — listening sockets, requests outside calls (OPTIONS, unknown
 * methods), trunk registration and OPTIONS health checks, routing state. */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "call/call_int.h"

/* Buckets of libre's hash tables, each a list walked on every lookup. A transaction
 * outlives its call: over UDP a server transaction stays 32 s after its final response
 * (RFC 3261 Timer J), so at 600 calls/s about 19,000 BYE transactions are alive at once
 * and every request is matched against them. With 32 buckets (libre's usual size) those
 * walks took a sixth of cccd's CPU; these sizes keep a bucket to a few entries at the
 * rates and call counts in docs/benchmarks.md. Powers of two (libre masks the hash). */
enum {
	UA_CTRANS_BUCKETS = 1024,  /* our requests: INVITEs, BYEs, CANCELs, OPTIONS */
	UA_STRANS_BUCKETS = 16384, /* the peers' requests */
	UA_CONN_BUCKETS = 256,     /* TCP connections */
	UA_SESSION_BUCKETS = 4096, /* dialogs, found for every in-dialog request */
};

int call_trunk_auth(char **user, char **pass, const char *realm, void *arg)
{
	const struct call_trunk *t = arg;
	const struct call_trunk_conf *tc = t->tc;
	int err;

	if (!tc->username[0]) {
		log_warn("call", "trunk %s: challenged for realm '%s' but has no username",
			 tc->name, realm ? realm : "");
		return EAUTH;
	}
	if (tc->realm[0] && str_casecmp(realm, tc->realm)) {
		log_warn("call", "trunk %s: challenged for realm '%s', configured '%s'", tc->name,
			 realm ? realm : "", tc->realm);
		return EAUTH;
	}
	err = str_dup(user, tc->username);
	err = err ? err : str_dup(pass, tc->password);
	return err;
}

/* The loop is the only writer; see struct call_trunk for the memory order. */
static void trunk_state_set(struct call_trunk *t, int state, const char *why)
{
	if (atomic_load_explicit(&t->state, memory_order_relaxed) == state)
		return;
	atomic_store_explicit(&t->state, state, memory_order_relaxed);
	if (state)
		log_info("call", "trunk %s is up", t->tc->name);
	else
		log_warn("call", "trunk %s is down: %s", t->tc->name, why);
}

static void options_send(void *arg);

static void options_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct call_trunk *t = arg;
	char why[64];

	/* Any answer but a server failure shows the trunk alive (401/404/405 included: a
	 * trunk may well refuse OPTIONS from us and still carry calls). */
	if (err) {
		re_snprintf(why, sizeof(why), "OPTIONS: %m", err);
		trunk_state_set(t, 0, why);
	}
	else if (msg->scode >= 500) {
		re_snprintf(why, sizeof(why), "OPTIONS answered %u", msg->scode);
		trunk_state_set(t, 0, why);
	}
	else if (!t->reg_failed) {
		trunk_state_set(t, 1, "");
	}
	wheel_start(&t->opt_tmr, t->tc->options_interval * 1000ull, options_send, t);
}

static void options_send(void *arg)
{
	struct call_trunk *t = arg;
	char uri[400];
	int err;

	re_snprintf(uri, sizeof(uri), "sip:%s%s", t->hostport, t->tparam);
	err = sip_requestf(&t->opt_req, t->ua->sip, true, "OPTIONS", uri,
			   t->tc->proxy[0] ? &t->proxy : NULL, NULL, NULL, options_resp, t,
			   "To: <%s>\r\n"
			   "From: <sip:cccd@%s>;tag=%016llx\r\n"
			   "Call-ID: %016llx\r\n"
			   "CSeq: 1 OPTIONS\r\n"
			   "Accept: application/sdp\r\n"
			   "Content-Length: 0\r\n"
			   "\r\n",
			   uri, t->tc->from_domain, rand_u64(), rand_u64());
	if (err) {
		char why[64];

		re_snprintf(why, sizeof(why), "cannot send OPTIONS: %m", err);
		trunk_state_set(t, 0, why);
		wheel_start(&t->opt_tmr, t->tc->options_interval * 1000ull, options_send, t);
	}
}

static void register_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct call_trunk *t = arg;
	char why[80];

	if (err || msg->scode >= 300) {
		if (err)
			re_snprintf(why, sizeof(why), "registration: %m", err);
		else
			re_snprintf(why, sizeof(why), "registration refused: %u %r", msg->scode,
				    &msg->reason);
		t->reg_failed = true;
		trunk_state_set(t, 0, why);
		return;
	}
	if (msg->scode >= 200) {
		if (t->reg_failed || atomic_load_explicit(&t->state, memory_order_relaxed) != 1)
			log_info("call", "trunk %s: registered", t->tc->name);
		t->reg_failed = false;
		trunk_state_set(t, 1, "");
	}
}

static int trunk_start(struct call_trunk *t, unsigned i)
{
	struct call_ua *ua = t->ua;
	const struct call_trunk_conf *tc = t->tc;
	struct sa sa;
	int err = 0;

	err = call_rate_init(&t->rate, tc->cps);
	if (err)
		return err;
	if (!sa_set_str(&sa, tc->host, 0) && sa_af(&sa) == AF_INET6)
		re_snprintf(t->hostport, sizeof(t->hostport), "[%s]:%u", tc->host, tc->port);
	else
		re_snprintf(t->hostport, sizeof(t->hostport), "%s:%u", tc->host, tc->port);
	t->tparam = tc->transport == CALL_TLS ? ";transport=tls" :
		    tc->transport == CALL_TCP ? ";transport=tcp" : "";
	err = call_acl_trunk_init(t);
	if (err)
		return err;
	if (tc->proxy[0]) {
		struct pl pl;

		pl_set_str(&pl, tc->proxy);
		err = uri_decode(&t->proxy, &pl);
		if (err)
			return err;
	}
	if (tc->do_register) {
		char reg_uri[400], aor[400];
		const char *routev[1] = {tc->proxy};

		re_snprintf(reg_uri, sizeof(reg_uri), "sip:%s%s", t->hostport, t->tparam);
		re_snprintf(aor, sizeof(aor), "sip:%s@%s", tc->username, tc->from_domain);
		err = sipreg_register(&t->reg, ua->sip, reg_uri, aor, NULL, aor,
				      tc->register_expires, tc->username, routev,
				      tc->proxy[0] ? 1 : 0, 0, call_trunk_auth, t, false,
				      register_resp, t, NULL, NULL);
		if (err) {
			log_error("call", "trunk %s: cannot register: %s", tc->name,
				  strerror(err));
			return err;
		}
	}
	if (tc->options_interval)
		wheel_start(&t->opt_tmr, 10 + i * 50, options_send, t);
	return 0;
}

/* No more registration or health checks (the user agent stops, or a reload retired the
 * trunk while calls still hold it). Safe to repeat. */
static void trunk_stop(struct call_trunk *t)
{
	if (!t)
		return; /* a user agent that failed before its trunks started */
	wheel_cancel(&t->opt_tmr);
	wheel_cancel(&t->back_tmr);
	t->opt_req = mem_deref(t->opt_req);
	t->reg = mem_deref(t->reg);
}

static void trunk_destructor(void *arg)
{
	struct call_trunk *t = arg;

	trunk_stop(t);
	call_rate_close(&t->rate);
}

/* A trunk for settings tc (copied), running: registering, health checks. i is its
 * position, which spreads the first health checks. */
static int trunk_alloc(struct call_trunk **tp, struct call_ua *ua,
		       const struct call_trunk_conf *tc, unsigned i)
{
	struct call_trunk *t = mem_zalloc(sizeof(*t), trunk_destructor);
	int err;

	if (!t)
		return ENOMEM;
	t->ua = ua;
	t->conf = *tc;
	t->tc = &t->conf;
	atomic_init(&t->state, -1);
	atomic_init(&t->down_until_ms, 0);
	wheel_tmr_init(&t->opt_tmr);
	wheel_tmr_init(&t->back_tmr);
	err = trunk_start(t, i);
	if (err)
		mem_deref(t);
	else
		*tp = t;
	return err;
}

/* What every request needs before anything answers or routes it (libre's parser accepts
 * a message without them). */
static bool request_sane(const struct sip_msg *msg)
{
	return pl_isset(&msg->callid) && pl_isset(&msg->from.auri) && pl_isset(&msg->to.auri) &&
	       pl_isset(&msg->cseq.met) && !pl_cmp(&msg->cseq.met, &msg->met);
}

/* First listener: malformed requests, and what no call or session owns. */
static bool request_first(const struct sip_msg *msg, void *arg)
{
	struct call_ua *ua = arg;

	if (!pl_isset(&msg->via.sentby))
		return true; /* no way to answer it */
	if (!request_sane(msg)) {
		char sab[64];

		log_debug("call", "malformed %.*s from %s", (int)msg->met.l, msg->met.p,
			  call_sa_str(&msg->src, sab, sizeof(sab)));
		if (pl_strcmp(&msg->met, "ACK"))
			(void)sip_reply(ua->sip, msg, 400, "Bad Request");
		return true;
	}
	if (!pl_strcmp(&msg->met, "OPTIONS")) {
		/* Stateless, like every answer outside a call: a transaction would keep a 32 s
		 * timer per OPTIONS (libre inserts timers by walking a sorted list), and a
		 * retransmitted OPTIONS is simply answered again. A draining node answers 503,
		 * so that a SIP edge probing with OPTIONS (Kamailio's dispatcher) takes it out
		 * of rotation as a load balancer does on /readyz. An OPTIONS inside a dialog (a
		 * To tag: the edge's dialog keep-alive) that matches no call of this process gets
		 * 481, so the edge ends a call that a node lost (killed and started again within
		 * the keep-alive interval) instead of keeping its carrier leg up. */
		if (pl_isset(&msg->to.tag) && !call_find(ua, msg)) {
			(void)sip_reply(ua->sip, msg, 481, "Call/Transaction Does Not Exist");
			return true;
		}
		if (drain_active()) {
			(void)sip_replyf(ua->sip, msg, 503, "Service Unavailable",
					 "Retry-After: %u\r\nContent-Length: 0\r\n\r\n",
					 CALL_DRAIN_RETRY_AFTER_S);
			return true;
		}
		(void)sip_replyf(ua->sip, msg, 200, "OK",
				  "Allow: " CALL_ALLOW "\r\n"
				  "Supported: timer\r\n"
				  "Accept: application/sdp, application/dtmf-relay, "
				  "application/dtmf\r\n"
				  "Content-Length: 0\r\n"
				  "\r\n");
		return true;
	}
	if (!pl_strcmp(&msg->met, "BYE")) {
		struct call *c = call_find(ua, msg);

		if (c)
			call_peer_bye(c, msg); /* noted; libre's session layer answers it */
	}
	else if (!pl_strcmp(&msg->met, "CANCEL")) {
		struct call *c = call_find_cancelled(ua, msg);

		if (c)
			call_peer_bye(c, msg); /* its Reason, for the record; libre answers it */
	}
	else if (!pl_strcmp(&msg->met, "UPDATE")) {
		call_update_recv(ua, msg); /* libre 1.1.0's sessions have no UPDATE */
		return true;
	}
	return false;
}

/* Last listener: requests nobody handled get a proper refusal instead of libre's 501 and
 * its message on stderr. */
static bool request_last(const struct sip_msg *msg, void *arg)
{
	struct call_ua *ua = arg;

	if (!pl_strcmp(&msg->met, "ACK"))
		return true; /* never answered */
	if (!pl_strcmp(&msg->met, "CANCEL"))
		(void)sip_reply(ua->sip, msg, 481, "Call/Transaction Does Not Exist");
	else
		(void)sip_replyf(ua->sip, msg, 405, "Method Not Allowed",
				 "Allow: " CALL_ALLOW "\r\nContent-Length: 0\r\n\r\n");
	char sab[64];

	log_debug("call", "refused %.*s from %s", (int)msg->met.l, msg->met.p,
		  call_sa_str(&msg->src, sab, sizeof(sab)));
	return true;
}

static bool response_fork(const struct sip_msg *msg, void *arg)
{
	return call_fork_2xx(arg, msg);
}

static bool response_last(const struct sip_msg *msg, void *arg)
{
	char sab[64];

	if (call_cancel_response(arg, msg))
		return true;
	log_debug("call", "stray response %u to %.*s from %s", msg->scode,
		  (int)msg->cseq.met.l, msg->cseq.met.p, call_sa_str(&msg->src, sab, sizeof(sab)));
	return true;
}

/* Every SIP message sent or received (libre calls it on the loop, with the sip's arg:
 * the user agent): counted for /metrics, an INVITE sent to its call (for cccd's own
 * CANCEL, cancel.c), to the debug log, to the HEP capture server when there is one, and to
 * the call's trace when traces are kept. */
static void sip_trace(bool tx, enum sip_transp tp, const struct sa *src, const struct sa *dst,
		      const uint8_t *pkt, size_t len, void *arg)
{
	struct call_ua *ua = arg;
	char sb[64], db[64];

	call_count_msg(tx, pkt, len);
	if (ua && tx && len > 7 && !memcmp(pkt, "INVITE ", 7))
		call_invite_sent(ua, tp, dst, pkt, len);
	if (ua && ua->hep)
		call_hep_send(ua->hep, tp != SIP_TRANSP_UDP, src, dst, pkt, len);
	if (ua && ua->trace_h)
		call_trace_msg(ua, tx, src, dst, pkt, len);
	if (log_enabled(LOG_DEBUG))
		log_debug("sip", "%s %s %s -> %s\n%.*s", tx ? "send" : "recv",
			  sip_transp_name(tp), call_sa_str(src, sb, sizeof(sb)),
			  call_sa_str(dst, db, sizeof(db)), (int)(len > 4000 ? 4000 : len),
			  (const char *)pkt);
}

static void ua_destructor(void *arg)
{
	struct call_ua *ua = arg;
	struct le *le;

	while ((le = ua->calls.head))
		call_detach(le->data);
	/* Calls detached above may still hold trunks: those stop here, while sip lives. */
	for (unsigned i = 0; i < ua->cc.ntrunks; i++) {
		trunk_stop(ua->trunks[i]);
		ua->trunks[i] = mem_deref(ua->trunks[i]);
	}
	if (ua->route_lock_init)
		pthread_rwlock_destroy(&ua->route_lock);
	ua->lsnr_first = mem_deref(ua->lsnr_first);
	ua->lsnr_last = mem_deref(ua->lsnr_last);
	ua->lsnr_resp = mem_deref(ua->lsnr_resp);
	ua->lsnr_fork = mem_deref(ua->lsnr_fork);
	ua->screen = mem_deref(ua->screen); /* its helpers on sip's sockets go before sip */
	ua->sock = mem_deref(ua->sock);
	/* Ends what libre still works on (CANCELs waiting for a provisional, BYEs). */
	sip_close(ua->sip, true);
	ua->sip = mem_deref(ua->sip);
	ua->hep = mem_deref(ua->hep); /* after sip: its last messages are traced too */
	ua->tls = mem_deref(ua->tls); /* after sip: its connections use the checks */
	call_trace_close(ua);
	ua->dnsc = mem_deref(ua->dnsc);
}

void call_ua_trace(struct call_ua *ua, size_t cap_bytes, call_trace_h *h, void *arg)
{
	if (!ua)
		return;
	ua->trace_h = h;
	ua->trace_arg = arg;
	ua->trace_cap = cap_bytes;
}

static void udp_buffer_size(const struct sa *laddr, unsigned bytes)
{
	char ab[64];
	unsigned got = 0;
	int err = call_udp_buffer(laddr, bytes, &got);

	if (err)
		log_warn("call", "SIP on udp %s: cannot size the receive buffer: %s",
			 call_sa_str(laddr, ab, sizeof(ab)), strerror(err));
	else if (got < bytes)
		log_warn("call", "SIP on udp %s: receive buffer %u bytes, not the %u of [sip] "
			 "udp_receive_bytes: the kernel's net.core.rmem_max caps it (see "
			 "docs/operations.md)", call_sa_str(laddr, ab, sizeof(ab)), got, bytes);
}

/* Behind a 1:1 NAT our requests' Via names the advertised address for their destination,
 * so that a peer that answers to the Via (no rport) reaches us. */
static void via_advertise(const struct sa *laddr, const struct sa *dst, struct mbuf *mb,
			  void *arg)
{
	struct call_ua *ua = arg;
	struct sa adv;

	call_advertised(&ua->cc, call_trunk_at(ua, dst), false, laddr, &adv);
	if (!sa_cmp(&adv, laddr, SA_ALL))
		(void)call_via_advertise(mb, laddr, &adv);
}

int call_trunk_at(const struct call_ua *ua, const struct sa *src)
{
	struct sa sa;

	for (unsigned i = 0; i < ua->cc.ntrunks; i++) {
		if (!sa_set_str(&sa, ua->cc.trunks[i].host, 0) && sa_cmp(&sa, src, SA_ADDR))
			return (int)i;
	}
	return -1;
}

static bool needs_dns(const struct call_conf *cc)
{
	struct sa sa;

	for (unsigned i = 0; i < cc->ntrunks; i++) {
		if (sa_set_str(&sa, cc->trunks[i].host, 0))
			return true;
	}
	return false;
}

static int dns_start(struct call_ua *ua)
{
	struct sa srv[4];
	uint32_t n = 4;
	char domain[64] = "";
	int err;

	err = dns_srv_get(domain, sizeof(domain), srv, &n);
	if (err || !n) {
		log_error("call", "a trunk host is a DNS name, but no DNS server is configured");
		return err ? err : ENOENT;
	}
	return dnsc_alloc(&ua->dnsc, NULL, srv, n);
}

int call_ua_alloc(struct call_ua **uap, const struct call_conf *cc, struct media *m,
		  call_incoming_h *ih, void *arg)
{
	struct call_ua *ua;
	int err = 0;

	if (!uap || !cc)
		return EINVAL;
	ua = mem_zalloc(sizeof(*ua), ua_destructor);
	if (!ua)
		return ENOMEM;
	ua->cc = *cc;
	call_conf_resolve(&ua->cc);
	ua->media = m;
	ua->ih = ih;
	ua->arg = arg;
	list_init(&ua->calls);
	err = pthread_rwlock_init(&ua->route_lock, NULL);
	if (err) {
		mem_deref(ua);
		return err;
	}
	ua->route_lock_init = true;

	err = call_acl_nonce_init(ua);
	if (!err && needs_dns(cc))
		err = dns_start(ua);
	err = err ? err : sip_alloc(&ua->sip, ua->dnsc, UA_CTRANS_BUCKETS, UA_STRANS_BUCKETS,
				    UA_CONN_BUCKETS, ua->cc.user_agent, NULL, ua);
	if (err)
		goto out;
	if (cc->hep) {
		struct sa hs;

		err = sa_decode(&hs, cc->hep_server, strlen(cc->hep_server));
		err = err ? err : call_hep_alloc(&ua->hep, &hs, cc->hep_id, cc->hep_password);
		if (err) {
			log_error("call", "HEP capture server %s: %s", cc->hep_server,
				  strerror(err));
			goto out;
		}
	}
	/* Always: the metrics count messages, and a reload may turn the debug log on. */
	sip_set_trace_handler(ua->sip, sip_trace);
	err = call_screen_alloc(&ua->screen, ua->sip);
	if (!err)
		call_screen_on_send(ua->screen, via_advertise, ua);
	if (err)
		goto out;
	for (unsigned i = 0; i < cc->nlisten; i++) {
		const struct call_listen *l = &cc->listen[i];
		struct sa laddr;

		err = sa_set_str(&laddr, l->host, l->port);
		if (!err && l->udp) {
			err = sip_transp_add(ua->sip, SIP_TRANSP_UDP, &laddr);
			if (!err && cc->udp_receive_bytes)
				udp_buffer_size(&laddr, cc->udp_receive_bytes);
			if (!err && call_screen_probe(&laddr))
				log_warn("call", "SIP on udp %s:%u: cannot probe the socket; "
					 "malformed datagrams are screened only after the first "
					 "message", l->host, l->port);
		}
		if (!err && l->tcp)
			err = sip_transp_add(ua->sip, SIP_TRANSP_TCP, &laddr);
		if (err) {
			log_error("call", "cannot listen for SIP on %s:%u: %s", l->host, l->port,
				  strerror(err));
			goto out;
		}
	}
	if (!err && cc->tls_listen) {
		struct sa laddr;

		err = call_tls_alloc(&ua->tls, &ua->cc);
		err = err ? err : sa_set_str(&laddr, cc->tls_host, cc->tls_port);
		err = err ? err : sip_transp_add(ua->sip, SIP_TRANSP_TLS, &laddr,
						 call_tls_context(ua->tls));
		if (err) {
			log_error("call", "cannot listen for SIP over TLS on %s:%u: %s",
				  cc->tls_host, cc->tls_port, strerror(err));
			goto out;
		}
		log_info("call", "SIP over TLS on %s:%u", cc->tls_host, cc->tls_port);
	}
	/* Listener order is call order: the screen (call_screen_alloc above), ours, then
	 * libre's sessions, then the catch-all. */
	err = sip_listen(&ua->lsnr_first, ua->sip, true, request_first, ua);
	err = err ? err : sip_listen(&ua->lsnr_fork, ua->sip, false, response_fork, ua);
	err = err ? err : sipsess_listen(&ua->sock, ua->sip, UA_SESSION_BUCKETS, call_incoming,
					 ua);
	err = err ? err : sip_listen(&ua->lsnr_last, ua->sip, true, request_last, ua);
	err = err ? err : sip_listen(&ua->lsnr_resp, ua->sip, false, response_last, ua);
	for (unsigned i = 0; !err && i < ua->cc.ntrunks; i++)
		err = trunk_alloc(&ua->trunks[i], ua, &ua->cc.trunks[i], i);

 out:
	if (err)
		mem_deref(ua);
	else
		*uap = ua;
	return err;
}

bool call_trunk_usable(const struct call_trunk *t)
{
	return atomic_load_explicit(&t->state, memory_order_relaxed) != 0 &&
	       clock_mono_ms() >= atomic_load_explicit(&t->down_until_ms, memory_order_relaxed);
}

bool call_trunk_room(const struct call_trunk *t, uint64_t now_ms, uint64_t *wait_ms)
{
	if (t->tc->max_channels && t->channels >= t->tc->max_channels) {
		if (wait_ms)
			*wait_ms = 0;
		return false;
	}
	return call_rate_room(&t->rate, now_ms, wait_ms);
}

void call_trunk_take(struct call_trunk *t, uint64_t now_ms)
{
	BASE_ASSERT(!t->tc->max_channels || t->channels < t->tc->max_channels,
		    "an attempt starts only on a trunk with a free channel");
	t->channels++;
	call_rate_note(&t->rate, now_ms);
}

void call_trunk_give(struct call_trunk *t)
{
	BASE_ASSERT(t->channels > 0, "a trunk gives back only channels it lent");
	t->channels--;
	if (t->ua->room_h)
		t->ua->room_h(t->ua->room_arg);
}

void call_ua_room_handler(struct call_ua *ua, call_room_h *h, void *arg)
{
	if (!ua)
		return;
	ua->room_h = h;
	ua->room_arg = arg;
}

static void trunk_back(void *arg)
{
	struct call_trunk *t = arg;

	log_info("call", "trunk %s: its Retry-After is over: back in use", t->tc->name);
}

void call_trunk_invite_failed(struct call_trunk *t, int err, const struct sip_msg *msg)
{
	char why[80];

	if (msg && !msg->req && msg->scode == 503) {
		uint32_t secs = call_retry_after(msg);

		if (!secs)
			return; /* RFC 3261 §21.5.4: as a 500, the trunk stays in use */
		atomic_store_explicit(&t->down_until_ms, clock_mono_ms() + secs * 1000ull,
				      memory_order_relaxed);
		log_warn("call", "trunk %s: 503 with Retry-After: out of use for %u s",
			 t->tc->name, secs);
		wheel_start(&t->back_tmr, secs * 1000ull, trunk_back, t);
	}
	else if (!msg && err && t->tc->options_interval) {
		re_snprintf(why, sizeof(why), "INVITE: %m", err);
		trunk_state_set(t, 0, why);
	}
}

int call_trunk_state(const struct call_ua *ua, unsigned trunk)
{
	const struct call_trunk *t;

	if (!ua || trunk >= ua->cc.ntrunks)
		return 0;
	t = ua->trunks[trunk];
	if (!call_trunk_usable(t))
		return 0;
	return atomic_load_explicit(&t->state, memory_order_relaxed);
}

static bool trunk_down(unsigned trunk, void *arg)
{
	return call_trunk_state(arg, trunk) == 0;
}

bool call_route_ok(const struct call_ua *ua, const char *callee)
{
	struct call_ua *mut = (struct call_ua *)ua; /* the lock only */
	struct call_plan plan;
	bool ok;

	if (!ua)
		return false;
	pthread_rwlock_rdlock(&mut->route_lock);
	ok = !call_route_plan(&ua->cc, callee, trunk_down, (void *)ua, 0, &plan);
	pthread_rwlock_unlock(&mut->route_lock);
	return ok;
}

bool call_route_uui_ok(const struct call_ua *ua, const char *callee)
{
	struct call_ua *mut = (struct call_ua *)ua; /* the lock only */
	struct call_plan plan;
	bool ok = true;

	if (!ua)
		return true;
	pthread_rwlock_rdlock(&mut->route_lock);
	if (!call_route_plan(&ua->cc, callee, NULL, NULL, 0, &plan)) {
		ok = false;
		for (unsigned i = 0; i < plan.n && !ok; i++)
			ok = ua->cc.trunks[plan.steps[i].trunk].uui != CALL_UUI_REFUSE;
	}
	pthread_rwlock_unlock(&mut->route_lock);
	return ok;
}

int call_route_ready(struct call_ua *ua, const char *callee, uint64_t *wait_ms)
{
	uint64_t now = clock_mono_ms(), best = UINT64_MAX;
	struct call_plan plan;
	bool full = false;

	if (!ua || call_route_plan(&ua->cc, callee, trunk_down, ua, 0, &plan))
		return 0;
	for (unsigned i = 0; i < plan.n; i++) {
		const struct call_trunk *t = ua->trunks[plan.steps[i].trunk];
		uint64_t w = 0;

		if (!call_trunk_usable(t))
			continue;
		if (call_trunk_room(t, now, &w))
			return 0;
		full = true;
		/* a wait of 0 means "until a channel frees": no time to wake at */
		if (w && w < best)
			best = w;
	}
	/* Every trunk for it out of use, none merely full: the call fails honestly now. */
	if (!full)
		return 0;
	if (wait_ms)
		*wait_ms = best == UINT64_MAX ? 0 : best;
	return EAGAIN;
}

bool call_route_limited(struct call_ua *ua, const char *callee)
{
	struct call_plan plan;

	if (!ua || call_route_plan(&ua->cc, callee, trunk_down, ua, 0, &plan))
		return false;
	for (unsigned i = 0; i < plan.n; i++) {
		const struct call_trunk *t = ua->trunks[plan.steps[i].trunk];

		if (t->tc->max_channels || t->tc->cps)
			return true;
	}
	return false;
}

/* ---- reload ------------------------------------------------------------------------ */

/* The running trunk of the current set that tc leaves unchanged, or NULL. The settings
 * are compared whole (both were read into zeroed memory by call_conf_read, and resolved
 * the same way), so any change — a key, the position that gives the default priority,
 * the addresses a DNS name resolves to — makes a new trunk. */
static struct call_trunk *trunk_same(const struct call_ua *ua, const struct call_trunk_conf *tc)
{
	for (unsigned i = 0; i < ua->cc.ntrunks; i++) {
		struct call_trunk *t = ua->trunks[i];

		if (!strcmp(t->tc->name, tc->name))
			return memcmp(t->tc, tc, sizeof(*tc)) ? NULL : t;
	}
	return NULL;
}

static bool trunk_named(const struct call_conf *cc, const char *name)
{
	for (unsigned i = 0; i < cc->ntrunks; i++) {
		if (!strcmp(cc->trunks[i].name, name))
			return true;
	}
	return false;
}

/* call_tls (tls.c) keeps each TLS trunk's checked addresses and CA store, made at start,
 * and points at the trunk's slot of ua->cc.trunks: a reload that adds, removes, changes or
 * moves a TLS trunk would leave it checking carriers against old settings. */
static bool tls_trunks_same(const struct call_conf *a, const struct call_conf *b)
{
	unsigned n = a->ntrunks > b->ntrunks ? a->ntrunks : b->ntrunks;

	for (unsigned i = 0; i < n; i++) {
		bool ta = i < a->ntrunks && a->trunks[i].transport == CALL_TLS;
		bool tb = i < b->ntrunks && b->trunks[i].transport == CALL_TLS;

		if (!ta && !tb)
			continue;
		if (ta != tb || memcmp(&a->trunks[i], &b->trunks[i], sizeof(a->trunks[i])))
			return false;
	}
	return true;
}

int call_ua_trunks_reload(struct call_ua *ua, const struct call_conf *cc, char *why,
			  size_t whysz)
{
	struct call_trunk *next[CALL_TRUNKS_MAX] = {NULL}, *old[CALL_TRUNKS_MAX];
	unsigned nold, kept = 0, added = 0, changed = 0, removed = 0;
	int err = 0;

	if (!ua || !cc)
		return EINVAL;
	/* libre's sip takes its DNS client when it is made: a first DNS-named trunk cannot
	 * be resolved by a user agent that started without one. */
	if (!ua->dnsc && needs_dns(cc)) {
		snprintf(why, whysz, "a trunk host is a DNS name and cccd started with trunks "
			 "named by address only: needs a restart");
		return EINVAL;
	}
	if (!tls_trunks_same(&ua->cc, cc)) {
		snprintf(why, whysz, "a TLS trunk was added, removed, changed or moved: needs a "
			 "restart");
		return EINVAL;
	}
	for (unsigned i = 0; i < cc->ntrunks; i++) {
		struct call_trunk *t = trunk_same(ua, &cc->trunks[i]);

		if (t) {
			next[i] = mem_ref(t);
			continue;
		}
		err = trunk_alloc(&next[i], ua, &cc->trunks[i], i);
		if (err) {
			snprintf(why, whysz, "trunk %s cannot start: %s", cc->trunks[i].name,
				 strerror(err));
			goto out;
		}
	}

	/* The swap: the API threads' route checks see the old set or the new, whole. */
	nold = ua->cc.ntrunks;
	memcpy(old, ua->trunks, sizeof(old));
	pthread_rwlock_wrlock(&ua->route_lock);
	memcpy(ua->cc.trunks, cc->trunks, sizeof(ua->cc.trunks));
	ua->cc.ntrunks = cc->ntrunks;
	memcpy(ua->trunks, next, sizeof(ua->trunks));
	pthread_rwlock_unlock(&ua->route_lock);

	for (unsigned i = 0; i < ua->cc.ntrunks; i++) {
		bool was = false, same = false;

		for (unsigned j = 0; j < nold; j++) {
			if (!strcmp(old[j]->tc->name, ua->trunks[i]->tc->name)) {
				was = true;
				same = old[j] == ua->trunks[i];
			}
		}
		if (same) {
			kept++;
			continue;
		}
		log_info("call", "reload: trunk %s %s", ua->trunks[i]->tc->name,
			 was ? "changed: new calls use its new settings" : "added");
		if (was)
			changed++;
		else
			added++;
	}
	for (unsigned j = 0; j < nold; j++) {
		bool kept_obj = false;

		for (unsigned i = 0; i < ua->cc.ntrunks; i++)
			kept_obj |= ua->trunks[i] == old[j];
		if (!kept_obj) {
			if (!trunk_named(cc, old[j]->tc->name)) {
				log_info("call", "reload: trunk %s removed", old[j]->tc->name);
				removed++;
			}
			/* Calls in progress on it hold it; it no longer registers or checks. */
			trunk_stop(old[j]);
		}
		mem_deref(old[j]);
	}
	log_info("call", "reload: trunks: %u kept, %u added, %u changed, %u removed", kept,
		 added, changed, removed);
	return 0;

 out:
	for (unsigned i = 0; i < CALL_TRUNKS_MAX; i++)
		mem_deref(next[i]);
	return err;
}
