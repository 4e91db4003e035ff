/* call: SIP over TLS — the one libre TLS context behind [sip] tls_listen (inbound, with
 * cccd's certificate) and every TLS trunk (outbound), and the check of each carrier's
 * certificate against that trunk's CA file and name.
 *
 * Why the check is done here and not by libre. libre 1.1.0's SIP transport starts every
 * outgoing TLS connection from the listener's context and calls nothing per connection:
 * no SNI, no host name, no verification (tls_set_verify_server needs the connection,
 * which libre keeps to itself), so out of the box any certificate would do. OpenSSL calls
 * the context's info callback when a handshake starts, before the ClientHello is built;
 * there cccd finds which trunk the connection goes to and sets, on that connection alone,
 * the name to check and send as SNI, the trunk's CA store, and SSL_VERIFY_PEER with a
 * callback that logs a refusal. A certificate that does not verify ends the handshake;
 * libre then fails the requests queued on the connection with a transport error, so the
 * call fails over to its next trunk (route.c) and the OPTIONS check marks the trunk down.
 *
 * Which trunk: the peer's address. The handshake's SSL gives libre's connection object
 * (the data of its write BIO, set by tls_start_tcp), and that object's TCP connection
 * gives the peer (tcp_conn_peer_get). libre 1.1.0 has no accessor for the TCP connection,
 * so tls_peer_tcp reads it from libre's struct tls_conn, whose layout (tls_tcp.c: ssl,
 * the BIO method, the two BIOs, the TCP helper, the TCP connection) it checks against
 * what OpenSSL says of the same connection before trusting it; if the layout ever
 * differs, every outgoing TLS connection is refused with a log line (fail closed), never
 * let through unchecked. A trunk named by DNS name is matched on the addresses its name
 * had at start (resolved once, on the main thread before the loop runs); a connection to
 * an address of no TLS trunk is refused. Inbound connections (cccd the server) ask for
 * no client certificate: inbound calls are admitted as over UDP (acl.c). */
#define USE_OPENSSL /* re_tls.h: tls_openssl_context */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "base/base.h"
#include "conf/conf.h"
#include "call/call_int.h"

enum { PEER_ADDRS_MAX = 8 };

struct tls_peer {
	const struct call_trunk_conf *tc; /* in the ua's call_conf */
	struct sa addr[PEER_ADDRS_MAX];   /* where its connections go */
	unsigned naddr;
	X509_STORE *store;                /* owned; its CAs (NULL when tls_verify is off) */
};

/* Owner: the ua (call_ua.tls). */
struct call_tls {
	struct tls *tls;                  /* owned: libre's context for every TLS connection */
	struct tls_peer peers[CALL_TRUNKS_MAX];
	unsigned npeers;
};

static int ctx_index = -1, ssl_index = -1;

/* libre's struct tls_conn as tls_tcp.c (1.1.0, OpenSSL >= 1.1) lays it out; read only. */
struct libre_tls_conn {
	SSL *ssl;
	void *biomet;
	BIO *sbio_out;
	BIO *sbio_in;
	void *th;
	struct tcp_conn *tcp;
};

static int tls_peer_tcp(SSL *ssl, struct sa *peer)
{
	const struct libre_tls_conn *tc = BIO_get_data(SSL_get_wbio(ssl));
	struct sa local;

	if (!tc || tc->ssl != ssl || tc->sbio_out != SSL_get_wbio(ssl) ||
	    tc->sbio_in != SSL_get_rbio(ssl) || !tc->tcp)
		return EPROTO;
	/* both ends readable: the pointer is a connected TCP connection, not another field */
	if (tcp_conn_peer_get(tc->tcp, peer) || tcp_conn_local_get(tc->tcp, &local))
		return EPROTO;
	return 0;
}

static const struct tls_peer *peer_find(const struct call_tls *ct, const struct sa *addr)
{
	for (unsigned i = 0; i < ct->npeers; i++) {
		for (unsigned j = 0; j < ct->peers[i].naddr; j++) {
			if (sa_cmp(&ct->peers[i].addr[j], addr, SA_ALL))
				return &ct->peers[i];
		}
	}
	return NULL;
}

static int verify_log(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct tls_peer *p = ssl ? SSL_get_ex_data(ssl, ssl_index) : NULL;
	X509 *cert = X509_STORE_CTX_get_current_cert(x);
	char subject[256] = "";

	if (ok || !p)
		return ok;
	if (cert)
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	log_warn("call", "trunk %s: TLS certificate refused: %s (depth %d, subject %s, "
		 "expected name %s)", p->tc->name,
		 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)),
		 X509_STORE_CTX_get_error_depth(x), subject, p->tc->tls_server_name);
	return 0;
}

/* A numeric server name is checked against the certificate's IP addresses, a DNS name
 * against its names (no partial wildcards) and also sent as SNI. */
static int peer_verify_set(SSL *ssl, const struct tls_peer *p)
{
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	const char *name = p->tc->tls_server_name;
	struct sa sa;

	SSL_set_ex_data(ssl, ssl_index, (void *)p);
	if (!p->tc->tls_verify) {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	if (!sa_set_str(&sa, name, 0)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1)
			return EPROTO;
	}
	else {
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_host(vp, name, 0) != 1 ||
		    SSL_set_tlsext_host_name(ssl, name) != 1)
			return EPROTO;
	}
	if (SSL_set1_verify_cert_store(ssl, p->store) != 1)
		return EPROTO;
	SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_log);
	return 0;
}

/* A handshake starts: a client one (cccd calling a trunk) gets its trunk's checks; one
 * that cannot be matched to a TLS trunk is stopped here (its handshake fails). */
static void handshake_start(const SSL *cssl, int where, int ret)
{
	SSL *ssl = (SSL *)cssl;
	const struct call_tls *ct = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
	const struct tls_peer *p;
	char sb[64];
	struct sa peer;

	(void)ret;
	if (!(where & SSL_CB_HANDSHAKE_START) || SSL_is_server(ssl) || !ct ||
	    SSL_get_ex_data(ssl, ssl_index))
		return;
	if (tls_peer_tcp(ssl, &peer)) {
		log_error("call", "TLS: cannot tell which trunk a connection goes to (libre's "
			  "connection layout is not the one cccd knows): refused");
		goto refuse;
	}
	p = peer_find(ct, &peer);
	if (!p) {
		log_warn("call", "TLS connection to %s: the address of no TLS trunk: refused",
			 call_sa_str(&peer, sb, sizeof(sb)));
		goto refuse;
	}
	if (peer_verify_set(ssl, p)) {
		log_error("call", "trunk %s: cannot set up the TLS checks", p->tc->name);
		goto refuse;
	}
	return;
refuse:
	/* No usable check: verify against an empty store, which nothing passes. */
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	SSL_set0_verify_cert_store(ssl, X509_STORE_new());
	X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), "cccd.invalid", 0);
}

static void call_tls_destructor(void *arg)
{
	struct call_tls *ct = arg;

	/* the SIP transports may hold the context a moment longer than this object */
	if (ct->tls) {
		SSL_CTX_set_info_callback(tls_openssl_context(ct->tls), NULL);
		SSL_CTX_set_ex_data(tls_openssl_context(ct->tls), ctx_index, NULL);
	}
	for (unsigned i = 0; i < ct->npeers; i++)
		X509_STORE_free(ct->peers[i].store);
	mem_deref(ct->tls);
}

/* The trunk's CA store: its file, else the system's default locations. */
static int peer_store(struct tls_peer *p)
{
	p->store = X509_STORE_new();
	if (!p->store)
		return ENOMEM;
	if (p->tc->tls_ca_file[0] ?
	    X509_STORE_load_locations(p->store, p->tc->tls_ca_file, NULL) != 1 :
	    X509_STORE_set_default_paths(p->store) != 1) {
		log_error("call", "trunk %s: cannot load the CAs of %s", p->tc->name,
			  p->tc->tls_ca_file[0] ? p->tc->tls_ca_file : "the system");
		ERR_clear_error();
		return EINVAL;
	}
	return 0;
}

/* The trunk's addresses: its IP, or what its name resolves to now (blocking: called
 * before the loop runs). */
static int peer_addrs(struct tls_peer *p)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
	int rc;

	if (!sa_set_str(&p->addr[0], p->tc->host, p->tc->port)) {
		p->naddr = 1;
		return 0;
	}
	rc = getaddrinfo(p->tc->host, NULL, &hints, &res);
	if (rc) {
		log_error("call", "trunk %s: cannot resolve %s: %s", p->tc->name, p->tc->host,
			  gai_strerror(rc));
		return EINVAL;
	}
	for (ai = res; ai && p->naddr < PEER_ADDRS_MAX; ai = ai->ai_next) {
		if (sa_set_sa(&p->addr[p->naddr], ai->ai_addr))
			continue;
		sa_set_port(&p->addr[p->naddr], p->tc->port);
		p->naddr++;
	}
	freeaddrinfo(res);
	return 0;
}

/* The libre context with cccd's certificate and key (both PEM files). */
static int context_alloc(struct tls **tlsp, const struct call_conf *cc, const char **why)
{
	struct tls *tls = NULL;
	SSL_CTX *ctx;
	int err = tls_alloc(&tls, TLS_METHOD_SSLV23, NULL, NULL);

	if (err) {
		*why = "cannot create a TLS context";
		return err;
	}
	ctx = tls_openssl_context(tls);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cc->tls_cert) != 1)
		*why = "tls_cert: not a readable PEM certificate (chain)";
	else if (SSL_CTX_use_PrivateKey_file(ctx, cc->tls_key, SSL_FILETYPE_PEM) != 1)
		*why = "tls_key: not a readable unencrypted PEM private key";
	else if (SSL_CTX_check_private_key(ctx) != 1)
		*why = "tls_key is not the private key of tls_cert";
	else
		*why = NULL;
	ERR_clear_error();
	if (*why) {
		mem_deref(tls);
		return EINVAL;
	}
	*tlsp = tls;
	return 0;
}

int call_tls_check(const struct call_conf *cc, const struct conf_section *sip,
		   struct conf_err *err)
{
	struct tls *tls = NULL;
	const char *why;
	int rc = context_alloc(&tls, cc, &why);

	mem_deref(tls);
	if (rc)
		conf_err_set(err, conf_key_line(sip, "tls_cert"), "[sip] %s", why);
	return rc;
}

int call_tls_alloc(struct call_tls **ctp, const struct call_conf *cc)
{
	struct call_tls *ct;
	const char *why;
	int err;

	if (ctx_index < 0)
		ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ssl_index < 0)
		ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ctx_index < 0 || ssl_index < 0)
		return ENOMEM;
	ct = mem_zalloc(sizeof(*ct), call_tls_destructor);
	if (!ct)
		return ENOMEM;
	err = context_alloc(&ct->tls, cc, &why);
	if (err) {
		log_error("call", "[sip] %s", why);
		goto out;
	}
	for (unsigned i = 0; i < cc->ntrunks && !err; i++) {
		struct tls_peer *p = &ct->peers[ct->npeers];

		if (cc->trunks[i].transport != CALL_TLS)
			continue;
		p->tc = &cc->trunks[i];
		ct->npeers++;
		err = peer_addrs(p);
		if (!err && p->tc->tls_verify)
			err = peer_store(p);
		if (!err && !p->tc->tls_verify)
			log_warn("call", "trunk %s: TLS without certificate checks (tls_verify = "
				 "false): the connection is encrypted, the carrier unproven",
				 p->tc->name);
	}
	if (err)
		goto out;
	SSL_CTX_set_ex_data(tls_openssl_context(ct->tls), ctx_index, ct);
	SSL_CTX_set_info_callback(tls_openssl_context(ct->tls), handshake_start);
out:
	if (err)
		mem_deref(ct);
	else
		*ctp = ct;
	return err;
}

struct tls *call_tls_context(const struct call_tls *ct)
{
	return ct->tls;
}
