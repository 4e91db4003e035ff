/* call: reading [sip] and [trunk NAME] sections (dial rules, priority, weight); route.c
 * applies them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
#include "conf/conf.h"
#include "call/call_int.h"

static int copy_str(char *dst, size_t dsz, const char *src, const char *key, unsigned line,
		    struct conf_err *err)
{
	if (strlen(src) >= dsz) {
		conf_err_set(err, line, "'%s' is too long (at most %zu characters)", key, dsz - 1);
		return EINVAL;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* An external (advertised) address: a numeric IP peers can reach; on a trunk also "local"
 * (advertise the bound address: a trunk over a private network) and, when absent, `def`. */
static int external_read(const struct conf_section *sec, const char *key, const char *def,
			 bool local_ok, char *out, size_t outsz, struct conf_err *err)
{
	const char *v;
	struct sa sa;
	int rc = conf_str(sec, key, def, &v, err);

	if (rc)
		return rc;
	if (local_ok && !strcmp(v, "local"))
		v = "";
	if (*v && (strlen(v) >= outsz || sa_set_str(&sa, v, 0) || sa_is_any(&sa))) {
		conf_err_set(err, conf_key_line(sec, key), "'%s' must be a numeric IP address "
			     "peers can reach%s, not '%s'", key, local_ok ? " or 'local'" : "", v);
		return EINVAL;
	}
	str_ncpy(out, v, outsz);
	return 0;
}

/* listen = [udp|tcp] ADDR:PORT — without a transport word both UDP and TCP listen. */
static int listen_value(const char *value, unsigned line, void *arg, struct conf_err *err)
{
	struct call_conf *cc = arg;
	struct call_listen *l;
	const char *addr = value;
	struct sa sa;

	if (cc->nlisten >= CALL_LISTEN_MAX) {
		conf_err_set(err, line, "at most %d 'listen' lines", CALL_LISTEN_MAX);
		return EINVAL;
	}
	l = &cc->listen[cc->nlisten];
	l->udp = l->tcp = true;
	if (!strncasecmp(value, "udp ", 4)) {
		l->tcp = false;
		addr = value + 4;
	}
	else if (!strncasecmp(value, "tcp ", 4)) {
		l->udp = false;
		addr = value + 4;
	}
	while (*addr == ' ' || *addr == '\t')
		addr++;
	if (sa_decode(&sa, addr, strlen(addr)) || !sa_port(&sa)) {
		conf_err_set(err, line, "'listen' must be [udp|tcp] followed by a numeric address "
			     "with a port such as 127.0.0.1:5060, not '%s'", value);
		return EINVAL;
	}
	re_snprintf(l->host, sizeof(l->host), "%j", &sa);
	l->port = sa_port(&sa);
	cc->nlisten++;
	return 0;
}

static bool digits_plus(const char *s, size_t n, bool plus_first)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			continue;
		if (s[i] == '+' && i == 0 && plus_first)
			continue;
		return false;
	}
	return true;
}

/* route = MATCH [strip=N] [prefix=DIGITS]; MATCH is digits (optionally +...) or '*'. */
static int route_value(const char *value, unsigned line, void *arg, struct conf_err *err)
{
	struct call_trunk_conf *tc = arg;
	struct call_rule *r;
	char buf[256], *tok, *save = NULL;
	bool first = true;

	if (tc->nrules >= CALL_RULES_MAX) {
		conf_err_set(err, line, "at most %d 'route' lines per trunk", CALL_RULES_MAX);
		return EINVAL;
	}
	r = &tc->rules[tc->nrules];
	memset(r, 0, sizeof(*r));
	if (snprintf(buf, sizeof(buf), "%s", value) >= (int)sizeof(buf)) {
		conf_err_set(err, line, "'route' is too long");
		return EINVAL;
	}
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (first) {
			first = false;
			if (!strcmp(tok, "*"))
				continue;
			if (strlen(tok) > CALL_NUMBER_MAX || !digits_plus(tok, strlen(tok), true)) {
				conf_err_set(err, line, "route: '%s' is not a number prefix (digits, "
					     "an optional leading +) or '*'", tok);
				return EINVAL;
			}
			strcpy(r->match, tok);
		}
		else if (!strncmp(tok, "strip=", 6)) {
			char *end;
			unsigned long n = strtoul(tok + 6, &end, 10);

			if (!tok[6] || *end || n > CALL_NUMBER_MAX) {
				conf_err_set(err, line, "route: '%s' must be strip=N with N from 0 "
					     "to %d", tok, CALL_NUMBER_MAX);
				return EINVAL;
			}
			r->strip = (unsigned)n;
		}
		else if (!strncmp(tok, "prefix=", 7)) {
			const char *p = tok + 7;

			if (strlen(p) > CALL_NUMBER_MAX || !digits_plus(p, strlen(p), true)) {
				conf_err_set(err, line, "route: '%s' must be prefix= followed by "
					     "digits (an optional leading +)", tok);
				return EINVAL;
			}
			strcpy(r->prefix, p);
		}
		else {
			conf_err_set(err, line, "route: unknown word '%s' (expected strip=N or "
				     "prefix=DIGITS)", tok);
			return EINVAL;
		}
	}
	if (first) {
		conf_err_set(err, line, "route: a number prefix or '*' is required");
		return EINVAL;
	}
	tc->nrules++;
	return 0;
}

/* transport = tls: tls_verify, tls_ca_file, tls_server_name (default: host). Over TLS cccd
 * is the client, so [sip] tls_listen must exist: libre sends TLS only through a TLS
 * listener's context, and that address is cccd's Contact for the trunk. */
static int trunk_tls_read(const struct conf_section *sec, const struct call_conf *cc,
			  bool tls, struct call_trunk_conf *tc, struct conf_err *err)
{
	const char *ca, *name;
	struct sa host, lsn;
	int rc;

	rc = conf_bool(sec, "tls_verify", true, &tc->tls_verify, err);
	rc = rc ? rc : conf_str(sec, "tls_ca_file", cc->tls_ca_file, &ca, err);
	rc = rc ? rc : copy_str(tc->tls_ca_file, sizeof(tc->tls_ca_file), ca, "tls_ca_file",
				conf_key_line(sec, "tls_ca_file"), err);
	rc = rc ? rc : conf_str(sec, "tls_server_name", tc->host, &name, err);
	rc = rc ? rc : copy_str(tc->tls_server_name, sizeof(tc->tls_server_name), name,
				"tls_server_name", conf_key_line(sec, "tls_server_name"), err);
	if (rc)
		return rc;
	if (!tls && (conf_key_line(sec, "tls_verify") || conf_key_line(sec, "tls_ca_file") ||
		     conf_key_line(sec, "tls_server_name"))) {
		conf_err_set(err, conf_key_line(sec, "transport") ? conf_key_line(sec,
			     "transport") : conf_section_line(sec), "[trunk %s] has TLS keys "
			     "but its transport is not tls", tc->name);
		return EINVAL;
	}
	if (tls && !cc->tls_listen) {
		conf_err_set(err, conf_key_line(sec, "transport"), "[trunk %s] uses TLS, which "
			     "needs [sip] tls_listen (with tls_cert and tls_key)", tc->name);
		return EINVAL;
	}
	/* libre sends TLS through the TLS listener of the peer's address family */
	if (tls && !sa_set_str(&host, tc->host, 0) && !sa_set_str(&lsn, cc->tls_host, 0) &&
	    sa_af(&host) != sa_af(&lsn)) {
		conf_err_set(err, conf_key_line(sec, "host"), "[trunk %s] is over TLS at an "
			     "address of another family than [sip] tls_listen %s", tc->name,
			     cc->tls_host);
		return EINVAL;
	}
	if (tls && tc->tls_ca_file[0] && access(tc->tls_ca_file, R_OK)) {
		conf_err_set(err, conf_key_line(sec, "tls_ca_file") ? conf_key_line(sec,
			     "tls_ca_file") : conf_key_line(sec, "transport"), "[trunk %s] "
			     "tls_ca_file %s: %s", tc->name, tc->tls_ca_file, strerror(errno));
		return EINVAL;
	}
	return 0;
}

/* [sip] tls_listen = ADDR:PORT, tls_cert, tls_key (PEM files), tls_ca_file. */
static int sip_tls_read(const struct conf_section *sip, struct call_conf *cc,
			struct conf_err *err)
{
	const char *cert, *key, *ca;
	int rc;

	rc = conf_str(sip, "tls_cert", "", &cert, err);
	rc = rc ? rc : copy_str(cc->tls_cert, sizeof(cc->tls_cert), cert, "tls_cert",
				conf_key_line(sip, "tls_cert"), err);
	rc = rc ? rc : conf_str(sip, "tls_key", "", &key, err);
	rc = rc ? rc : copy_str(cc->tls_key, sizeof(cc->tls_key), key, "tls_key",
				conf_key_line(sip, "tls_key"), err);
	rc = rc ? rc : conf_str(sip, "tls_ca_file", "", &ca, err);
	rc = rc ? rc : copy_str(cc->tls_ca_file, sizeof(cc->tls_ca_file), ca, "tls_ca_file",
				conf_key_line(sip, "tls_ca_file"), err);
	if (rc)
		return rc;
	if (conf_key_line(sip, "tls_listen")) {
		rc = conf_addr(sip, "tls_listen", "", cc->tls_host, sizeof(cc->tls_host),
			       &cc->tls_port, err);
		if (rc)
			return rc;
		cc->tls_listen = true;
	}
	if (cc->tls_listen != (cc->tls_cert[0] && cc->tls_key[0]) ||
	    !cc->tls_cert[0] != !cc->tls_key[0]) {
		conf_err_set(err, conf_key_line(sip, "tls_listen") ? conf_key_line(sip,
			     "tls_listen") : conf_key_line(sip, cc->tls_cert[0] ? "tls_cert" :
							   "tls_key"),
			     "[sip] tls_listen, tls_cert and tls_key go together");
		return EINVAL;
	}
	/* the files themselves are loaded (and a bad one refused) by call_tls_check */
	return cc->tls_listen ? call_tls_check(cc, sip, err) : 0;
}

static bool listens_tcp(const struct call_conf *cc)
{
	for (unsigned i = 0; i < cc->nlisten; i++) {
		if (cc->listen[i].tcp)
			return true;
	}
	return false;
}

/* uui = carry | truncate:N | drop | refuse (docs/sip.md, User-to-User). */
static int trunk_uui_read(const struct conf_section *sec, struct call_trunk_conf *tc,
			  struct conf_err *err)
{
	const char *v;
	char *end;
	unsigned long n;
	int rc = conf_str(sec, "uui", "carry", &v, err);

	if (rc)
		return rc;
	if (!strcmp(v, "carry"))
		tc->uui = CALL_UUI_CARRY;
	else if (!strcmp(v, "drop"))
		tc->uui = CALL_UUI_DROP;
	else if (!strcmp(v, "refuse"))
		tc->uui = CALL_UUI_REFUSE;
	else if (!strncmp(v, "truncate:", 9) && v[9] >= '0' && v[9] <= '9' &&
		 (n = strtoul(v + 9, &end, 10)) >= 1 && n <= CALL_UUI_MAX && !*end) {
		tc->uui = CALL_UUI_TRUNCATE;
		tc->uui_max = (unsigned)n;
	}
	else {
		conf_err_set(err, conf_key_line(sec, "uui"), "[trunk %s] uui must be carry, "
			     "truncate:N (N 1-%d bytes), drop or refuse, not '%s'", tc->name,
			     CALL_UUI_MAX, v);
		return EINVAL;
	}
	return 0;
}

/* position: the trunk's place in the file from 1, its priority unless it names one. */
static int trunk_read(const struct conf_section *sec, unsigned position,
		      const struct call_conf *cc, struct call_trunk_conf *tc, struct conf_err *err)
{
	static const char *const transports[] = {"udp", "tcp", "tls", NULL};
	static const char *const srtps[] = {"off", "optional", "required", NULL};
	static const char *const latches[] = {"yes", "any", "no", NULL};
	static const char *const rel100s[] = {"supported", "required", "off", NULL};
	int latch;
	const char *host, *proxy, *from, *user, *pass, *realm, *in_from, *in_user, *in_pass;
	const char *codecs;
	char why[160];
	uint64_t port, expires, options, priority, weight, channels, cps, trying;
	int tp, rel, srtp, rc;

	memset(tc, 0, sizeof(*tc));
	rc = copy_str(tc->name, sizeof(tc->name), conf_section_name(sec), "trunk name",
		      conf_section_line(sec), err);
	if (!rc && !tc->name[0]) {
		conf_err_set(err, conf_section_line(sec), "a trunk needs a name: [trunk NAME]");
		rc = EINVAL;
	}
	rc = rc ? rc : conf_str(sec, "host", NULL, &host, err);
	if (!rc && (!host || !*host)) {
		conf_err_set(err, conf_section_line(sec), "[trunk %s] needs 'host'", tc->name);
		rc = EINVAL;
	}
	rc = rc ? rc : copy_str(tc->host, sizeof(tc->host), host, "host",
				conf_key_line(sec, "host"), err);
	if (!rc && strpbrk(tc->host, " \t;<>@\"[]")) {
		conf_err_set(err, conf_key_line(sec, "host"), "'host' must be an IP address or a "
			     "DNS name, not '%s'", host);
		rc = EINVAL;
	}
	rc = rc ? rc : conf_choice(sec, "transport", "udp", transports, &tp, err);
	rc = rc ? rc : conf_uint(sec, "port", tp == 2 ? 5061 : 5060, 1, 65535, &port, err);
	rc = rc ? rc : conf_str(sec, "proxy", "", &proxy, err);
	rc = rc ? rc : copy_str(tc->proxy, sizeof(tc->proxy), proxy, "proxy",
				conf_key_line(sec, "proxy"), err);
	if (!rc && tc->proxy[0]) {
		struct uri u;
		struct pl pl;

		pl_set_str(&pl, tc->proxy);
		if (strncmp(tc->proxy, "sip:", 4) || uri_decode(&u, &pl) || !pl_isset(&u.host)) {
			conf_err_set(err, conf_key_line(sec, "proxy"), "'proxy' must be a SIP URI "
				     "such as sip:10.0.0.2:5060;transport=tcp, not '%s'", proxy);
			rc = EINVAL;
		}
	}
	rc = rc ? rc : conf_str(sec, "from_domain", host, &from, err);
	rc = rc ? rc : copy_str(tc->from_domain, sizeof(tc->from_domain), from, "from_domain",
				conf_key_line(sec, "from_domain"), err);
	rc = rc ? rc : conf_str(sec, "username", "", &user, err);
	rc = rc ? rc : copy_str(tc->username, sizeof(tc->username), user, "username",
				conf_key_line(sec, "username"), err);
	rc = rc ? rc : conf_str(sec, "password", "", &pass, err);
	rc = rc ? rc : copy_str(tc->password, sizeof(tc->password), pass, "password",
				conf_key_line(sec, "password"), err);
	rc = rc ? rc : conf_str(sec, "realm", "", &realm, err);
	rc = rc ? rc : copy_str(tc->realm, sizeof(tc->realm), realm, "realm",
				conf_key_line(sec, "realm"), err);
	rc = rc ? rc : conf_bool(sec, "register", false, &tc->do_register, err);
	rc = rc ? rc : conf_uint(sec, "register_expires", 3600, 60, 86400, &expires, err);
	rc = rc ? rc : conf_uint(sec, "options_interval", 30, 0, 3600, &options, err);
	rc = rc ? rc : conf_uint(sec, "priority", position, 0, 65535, &priority, err);
	rc = rc ? rc : conf_uint(sec, "weight", 1, 1, CALL_WEIGHT_MAX, &weight, err);
	rc = rc ? rc : conf_choice(sec, "100rel", "supported", rel100s, &rel, err);
	rc = rc ? rc : conf_uint(sec, "max_channels", 0, 0, 100000, &channels, err);
	rc = rc ? rc : conf_uint(sec, "cps", 0, 0, CALL_CPS_MAX, &cps, err);
	rc = rc ? rc : conf_uint(sec, "trying_timeout_ms", 3000, 0, 32000, &trying, err);
	rc = rc ? rc : conf_each(sec, "route", route_value, tc, err);
	rc = rc ? rc : conf_str(sec, "inbound_from", NULL, &in_from, err);
	if (!rc && in_from && call_acl_parse(in_from, &tc->inbound_from, why, sizeof(why))) {
		conf_err_set(err, conf_key_line(sec, "inbound_from"), "inbound_from: %s", why);
		rc = EINVAL;
	}
	rc = rc ? rc : conf_str(sec, "inbound_username", "", &in_user, err);
	rc = rc ? rc : copy_str(tc->inbound_username, sizeof(tc->inbound_username), in_user,
				"inbound_username", conf_key_line(sec, "inbound_username"), err);
	rc = rc ? rc : conf_str(sec, "inbound_password", "", &in_pass, err);
	rc = rc ? rc : copy_str(tc->inbound_password, sizeof(tc->inbound_password), in_pass,
				"inbound_password", conf_key_line(sec, "inbound_password"), err);
	if (rc)
		return rc;
	if (tc->inbound_username[0] && (!tc->inbound_password[0] ||
					strpbrk(tc->inbound_username, " \t;<>@:\",\\"))) {
		conf_err_set(err, conf_key_line(sec, "inbound_username"), "[trunk %s] "
			     "inbound_username needs inbound_password, and must not contain "
			     "blanks, quotes, backslashes or any of ;<>@:,", tc->name);
		return EINVAL;
	}
	rc = rc ? rc : external_read(sec, "sip_external_ip", cc->sip_external, true,
				     tc->sip_external, sizeof(tc->sip_external), err);
	rc = rc ? rc : external_read(sec, "media_external_ip", cc->media_external, true,
				     tc->media_external, sizeof(tc->media_external), err);
	rc = rc ? rc : conf_choice(sec, "symmetric_rtp", latches[cc->latch], latches, &latch,
				   err);
	if (rc)
		return rc;
	tc->latch = (enum media_latch)latch;
	rc = rc ? rc : conf_str(sec, "codecs", "", &codecs, err);
	if (rc)
		return rc;
	if (*codecs && media_codecs_parse(codecs, tc->codecs, &tc->ncodecs)) {
		conf_err_set(err, conf_key_line(sec, "codecs"), "[trunk %s] codecs: '%s' is not a "
			     "list of at most 4 of PCMU, PCMA, G722 and opus", tc->name, codecs);
		return EINVAL;
	}
	rc = rc ? rc : trunk_uui_read(sec, tc, err);
	rc = rc ? rc : conf_bool(sec, "tcp_for_large", false, &tc->tcp_for_large, err);
	if (!rc && tc->tcp_for_large && tp != 0) {
		conf_err_set(err, conf_key_line(sec, "tcp_for_large"), "[trunk %s] "
			     "tcp_for_large is for a UDP trunk (its transport is %s)", tc->name,
			     transports[tp]);
		rc = EINVAL;
	}
	if (!rc && tc->tcp_for_large && !listens_tcp(cc)) {
		conf_err_set(err, conf_key_line(sec, "tcp_for_large"), "[trunk %s] "
			     "tcp_for_large needs cccd to listen on TCP ([sip] listen = tcp ... "
			     "or without a transport word)", tc->name);
		rc = EINVAL;
	}
	rc = rc ? rc : conf_bool(sec, "user_phone", false, &tc->user_phone, err);
	rc = rc ? rc : conf_bool(sec, "send_pai", true, &tc->pai, err);
	rc = rc ? rc : conf_bool(sec, "anonymous", false, &tc->anonymous, err);
	rc = rc ? rc : call_heard_conf_read(sec, tc, err);
	if (rc)
		return rc;
	if (tc->anonymous && !tc->pai) {
		conf_err_set(err, conf_key_line(sec, "anonymous"), "[trunk %s] withholds the "
			     "caller (anonymous), so it must send it to the carrier in "
			     "P-Asserted-Identity (send_pai = true)", tc->name);
		return EINVAL;
	}
	if (tc->do_register && !tc->username[0]) {
		conf_err_set(err, conf_key_line(sec, "register"), "[trunk %s] registers, so it "
			     "needs 'username' (and 'password')", tc->name);
		return EINVAL;
	}
	if (tc->username[0] && strpbrk(tc->username, " \t;<>@:\"")) {
		conf_err_set(err, conf_key_line(sec, "username"), "'username' must not contain "
			     "blanks or any of ;<>@:\"");
		return EINVAL;
	}
	if (!tc->nrules) {
		conf_err_set(err, conf_section_line(sec), "[trunk %s] has no 'route' line, so it "
			     "would carry no call (use 'route = *' for every number)", tc->name);
		return EINVAL;
	}
	rc = trunk_tls_read(sec, cc, tp == 2, tc, err);
	rc = rc ? rc : conf_choice(sec, "srtp", "off", srtps, &srtp, err);
	if (rc)
		return rc;
	tc->srtp = (enum call_srtp)srtp;
	tc->port = (uint16_t)port;
	tc->transport = tp == 2 ? CALL_TLS : tp == 1 ? CALL_TCP : CALL_UDP;
	tc->register_expires = (unsigned)expires;
	tc->options_interval = (unsigned)options;
	tc->priority = (unsigned)priority;
	tc->weight = (unsigned)weight;
	tc->rel100 = rel == 1 ? CALL_REL100_REQUIRED : rel == 2 ? CALL_REL100_OFF :
		     CALL_REL100_SUPPORTED;
	tc->max_channels = (unsigned)channels;
	tc->cps = (unsigned)cps;
	/* Only UDP has a silent peer to give up on: over TCP a dead peer is a connection
	 * error at once, and a live one has taken the INVITE. */
	tc->trying_timeout_ms = tc->transport == CALL_UDP ? (unsigned)trying : 0;
	return 0;
}

/* [sip] hep_server = [udp] IP:port (an address, not a name: the loop must not wait for a
 * resolver), hep_id, hep_password. */
static int hep_read(const struct conf_section *sip, struct call_conf *cc, struct conf_err *err)
{
	const char *server, *password;
	uint64_t id;
	struct sa sa;
	int rc;

	rc = conf_str(sip, "hep_server", "", &server, err);
	rc = rc ? rc : conf_uint(sip, "hep_id", 2001, 0, UINT32_MAX, &id, err);
	rc = rc ? rc : conf_str(sip, "hep_password", "", &password, err);
	if (rc)
		return rc;
	if (!server[0])
		return 0;
	if (!strncmp(server, "udp ", 4))
		server += 4;
	while (*server == ' ')
		server++;
	if (sa_decode(&sa, server, strlen(server)) || !sa_port(&sa) ||
	    strlen(server) >= sizeof(cc->hep_server)) {
		conf_err_set(err, conf_key_line(sip, "hep_server"), "hep_server must be "
			     "'udp IP:port' (an IP address, [IPv6]:port for IPv6; HEP goes over "
			     "UDP only)");
		return EINVAL;
	}
	rc = copy_str(cc->hep_password, sizeof(cc->hep_password), password, "hep_password",
		      conf_key_line(sip, "hep_password"), err);
	if (rc)
		return rc;
	str_ncpy(cc->hep_server, server, sizeof(cc->hep_server));
	cc->hep_id = (uint32_t)id;
	cc->hep = true;
	return 0;
}

int call_conf_read(const struct conf *cf, struct call_conf *cc, struct conf_err *err)
{
	const struct conf_section *sip = conf_section_first(cf, "sip"), *t;
	struct media_conf mc;
	const char *ua, *in_from, *realm, *timers;
	char why[160];
	uint64_t ring, ring_max, cps, rcvbuf, attempts, se, min_se;
	int rc;

	memset(cc, 0, sizeof(*cc));
	rc = conf_each(sip, "listen", listen_value, cc, err);
	if (!rc && !cc->nlisten)
		rc = listen_value("127.0.0.1:5060", 0, cc, err);
	rc = rc ? rc : conf_str(sip, "user_agent", "cccd", &ua, err);
	rc = rc ? rc : copy_str(cc->user_agent, sizeof(cc->user_agent), ua, "user_agent",
				conf_key_line(sip, "user_agent"), err);
	rc = rc ? rc : conf_uint(sip, "ring_timeout", 60, 1, 600, &ring, err);
	rc = rc ? rc : conf_uint(sip, "ring_timeout_max", 120, 1, 3600, &ring_max, err);
	rc = rc ? rc : conf_uint(sip, "inbound_cps", 200, 0, 100000, &cps, err);
	rc = rc ? rc : conf_uint(sip, "udp_receive_bytes", 4194304, 0, 268435456, &rcvbuf, err);
	rc = rc ? rc : conf_uint(sip, "trunk_attempts", 3, 1, CALL_TRUNKS_MAX, &attempts, err);
	rc = rc ? rc : conf_str(sip, "inbound_from", "none", &in_from, err);
	if (!rc && call_acl_parse(in_from, &cc->inbound_from, why, sizeof(why))) {
		conf_err_set(err, conf_key_line(sip, "inbound_from"), "inbound_from: %s", why);
		rc = EINVAL;
	}
	rc = rc ? rc : conf_str(sip, "libre_timers", "wheel", &timers, err);
	if (!rc && strcmp(timers, "wheel") && strcmp(timers, "list")) {
		conf_err_set(err, conf_key_line(sip, "libre_timers"), "libre_timers must be "
			     "wheel or list, not \"%s\"", timers);
		rc = EINVAL;
	}
	if (!rc)
		cc->libre_timers_list = !strcmp(timers, "list");
	rc = rc ? rc : conf_str(sip, "auth_realm", "cccd", &realm, err);
	rc = rc ? rc : copy_str(cc->auth_realm, sizeof(cc->auth_realm), realm, "auth_realm",
				conf_key_line(sip, "auth_realm"), err);
	if (!rc && (!cc->auth_realm[0] || strpbrk(cc->auth_realm, "\"\\\r\n"))) {
		conf_err_set(err, conf_key_line(sip, "auth_realm"), "auth_realm must be a "
			     "non-empty name without quotes or backslashes");
		rc = EINVAL;
	}
	rc = rc ? rc : external_read(sip, "external_ip", "", false, cc->sip_external,
				     sizeof(cc->sip_external), err);
	if (rc)
		return rc;
	/* The SDP preference and the media's NAT keys are the media module's settings;
	 * reading them here keeps one key each (and trunks inherit them below). */
	rc = media_conf_read(cf, &mc, err);
	if (rc)
		return rc;
	cc->ncodecs = mc.ncodecs;
	memcpy(cc->codecs, mc.prefer, sizeof(cc->codecs));
	str_ncpy(cc->media_external, mc.external_ip, sizeof(cc->media_external));
	cc->latch = mc.latch;
	rc = rc ? rc : conf_uint(sip, "session_expires", 1800, 0, 86400, &se, err);
	rc = rc ? rc : conf_uint(sip, "min_se", 90, 2, 86400, &min_se, err);
	if (rc)
		return rc;
	if (se && se < min_se) {
		conf_err_set(err, conf_key_line(sip, "session_expires"), "session_expires (%llu) "
			     "must be 0 or at least min_se (%llu)", (unsigned long long)se,
			     (unsigned long long)min_se);
		return EINVAL;
	}
	cc->session_expires = (unsigned)se;
	cc->min_se = (unsigned)min_se;
	if (ring > ring_max) {
		conf_err_set(err, conf_key_line(sip, "ring_timeout"), "ring_timeout (%llu) must "
			     "not exceed ring_timeout_max (%llu)", (unsigned long long)ring,
			     (unsigned long long)ring_max);
		return EINVAL;
	}
	cc->ring_timeout = (unsigned)ring;
	cc->ring_timeout_max = (unsigned)ring_max;
	cc->inbound_cps = (unsigned)cps;
	cc->udp_receive_bytes = (unsigned)rcvbuf;
	cc->trunk_attempts = (unsigned)attempts;
	rc = hep_read(sip, cc, err);
	rc = rc ? rc : sip_tls_read(sip, cc, err);
	if (rc)
		return rc;

	for (t = conf_section_first(cf, "trunk"); t; t = conf_section_next(t)) {
		if (cc->ntrunks >= CALL_TRUNKS_MAX) {
			conf_err_set(err, conf_section_line(t), "at most %d trunks",
				     CALL_TRUNKS_MAX);
			return EINVAL;
		}
		rc = trunk_read(t, cc->ntrunks + 1, cc, &cc->trunks[cc->ntrunks], err);
		if (rc)
			return rc;
		cc->ntrunks++;
	}
	return 0;
}

void call_advertised(const struct call_conf *cc, int trunk, bool media,
		     const struct sa *local, struct sa *out)
{
	call_advertised_tc(cc, trunk >= 0 && (unsigned)trunk < cc->ntrunks ?
			   &cc->trunks[trunk] : NULL, media, local, out);
}

void call_advertised_tc(const struct call_conf *cc, const struct call_trunk_conf *tc,
			bool media, const struct sa *local, struct sa *out)
{
	const char *ext;

	*out = *local;
	if (tc)
		ext = media ? tc->media_external : tc->sip_external;
	else
		ext = media ? cc->media_external : cc->sip_external;
	/* checked when read; a family the local socket does not have is not advertised */
	if (*ext && (sa_set_str(out, ext, sa_port(local)) || sa_af(out) != sa_af(local)))
		*out = *local;
}

bool call_number_ok(const char *number)
{
	size_t n = number ? strlen(number) : 0;

	if (!n || n > CALL_NUMBER_MAX || (number[0] == '+' && n == 1))
		return false;
	return digits_plus(number, n, true);
}
