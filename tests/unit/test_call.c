/* Unit tests of the call module's pure parts: [sip]/[trunk] config, dial rules and the
 * route plan (priority, weight), the trunk limits (cps window), when to fail over, Retry-After, the EndStatus table, SIP INFO DTMF bodies, User-to-User and numbers in URIs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <re.h>
#include "conf/conf.h"
#include "call/call.h"
#include "call/call_int.h"

static int read_conf(const char *text, struct call_conf *cc, struct conf_err *err)
{
	struct conf *cf = NULL;
	int rc = conf_parse(&cf, text, strlen(text), err);

	rc = rc ? rc : call_conf_read(cf, cc, err);
	rc = rc ? rc : conf_unused(cf, err);
	mem_deref(cf);
	return rc;
}

static void conf_fails(const char *text, unsigned line, const char *needle)
{
	struct call_conf cc;
	struct conf_err err = {0};

	assert_int_equal(read_conf(text, &cc, &err), EINVAL);
	if (!strstr(err.msg, needle))
		print_message("got: %u %s\n", err.line, err.msg);
	assert_non_null(strstr(err.msg, needle));
	assert_int_equal(err.line, line);
}

static struct sip_msg *decode(const char *text)
{
	struct mbuf *mb = mbuf_alloc(strlen(text) + 1);
	struct sip_msg *msg = NULL;

	assert_non_null(mb);
	mbuf_write_str(mb, text);
	mb->pos = 0;
	assert_int_equal(sip_msg_decode(&msg, mb), 0);
	mem_deref(mb);
	return msg;
}

static const char *demo =
	"[sip]\n"
	"listen = 127.0.0.1:5060\n"
	"listen = udp [::1]:5062\n"
	"user_agent = cccd/1\n"
	"ring_timeout = 30\n"
	"[trunk cn]\n"
	"host = 10.0.0.1\nport = 5080\ntransport = tcp\n"
	"proxy = sip:10.0.0.2:5060;transport=tcp\n"
	"username = u\npassword = p\nrealm = r\nregister = yes\n"
	"route = 0086 strip=4 prefix=0\n"
	"route = +86 strip=3 prefix=0\n"
	"route = 1 prefix=0\n"
	"[trunk any]\n"
	"host = sip.example.org\n"
	"route = *\n";

static void test_conf(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};
	struct call_plan plan;

	(void)state;
	assert_int_equal(read_conf(demo, &cc, &err), 0);
	assert_int_equal(cc.nlisten, 2);
	assert_true(cc.listen[0].udp && cc.listen[0].tcp);
	assert_true(cc.listen[1].udp && !cc.listen[1].tcp);
	assert_string_equal(cc.listen[1].host, "::1");
	assert_int_equal(cc.ring_timeout, 30);
	assert_int_equal(cc.inbound_cps, 200);
	assert_int_equal(cc.udp_receive_bytes, 4194304);
	assert_int_equal(cc.ntrunks, 2);
	assert_int_equal(cc.trunks[0].transport, CALL_TCP);
	assert_true(cc.trunks[0].do_register);
	assert_string_equal(cc.trunks[0].from_domain, "10.0.0.1");
	assert_int_equal(cc.trunks[1].port, 5060);
	assert_int_equal(cc.trunks[1].options_interval, 30);

	assert_int_equal(cc.trunk_attempts, 3);
	/* no priority given: the position in the file, so file order as before */
	assert_int_equal(cc.trunks[0].priority, 1);
	assert_int_equal(cc.trunks[1].priority, 2);
	assert_int_equal(cc.trunks[0].weight, 1);

	/* the three TCCC forms reach trunk cn as one national number; the catch-all trunk
	 * follows it (its failover), dialling the number as it came */
	assert_int_equal(call_route_plan(&cc, "008612300000000", NULL, NULL, 1, &plan), 0);
	assert_int_equal(plan.n, 2);
	assert_int_equal(plan.steps[0].trunk, 0);
	assert_string_equal(plan.steps[0].number, "012300000000");
	assert_int_equal(plan.steps[1].trunk, 1);
	assert_string_equal(plan.steps[1].number, "008612300000000");
	assert_int_equal(call_route_plan(&cc, "+8612300000000", NULL, NULL, 1, &plan), 0);
	assert_string_equal(plan.steps[0].number, "012300000000");
	assert_int_equal(call_route_plan(&cc, "12300000000", NULL, NULL, 1, &plan), 0);
	assert_string_equal(plan.steps[0].number, "012300000000");
	/* anything else: the catch-all trunk, unchanged */
	assert_int_equal(call_route_plan(&cc, "0044201234", NULL, NULL, 1, &plan), 0);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.steps[0].trunk, 1);
	assert_string_equal(plan.steps[0].number, "0044201234");
	assert_int_equal(call_route_plan(&cc, "12;x", NULL, NULL, 1, &plan), EINVAL);
	assert_int_equal(call_route_plan(&cc, "", NULL, NULL, 1, &plan), EINVAL);
}

static bool skip_first(unsigned trunk, void *arg)
{
	(void)arg;
	return trunk == 0;
}

static void test_route_skip(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};
	struct call_plan plan;

	(void)state;
	assert_int_equal(read_conf("[trunk a]\nhost = 1.2.3.4\nroute = 9 strip=1\n"
				   "[trunk b]\nhost = 1.2.3.5\nroute = 9 prefix=+\n", &cc, &err), 0);
	assert_int_equal(call_route_plan(&cc, "9123", NULL, NULL, 7, &plan), 0);
	assert_int_equal(plan.n, 2);
	assert_int_equal(plan.steps[0].trunk, 0);
	assert_string_equal(plan.steps[0].number, "123");
	assert_int_equal(plan.steps[1].trunk, 1);
	assert_string_equal(plan.steps[1].number, "+9123");
	assert_int_equal(call_route_plan(&cc, "9123", skip_first, NULL, 7, &plan), 0);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.steps[0].trunk, 1);
	assert_string_equal(plan.steps[0].number, "+9123");
	assert_int_equal(call_route_plan(&cc, "8123", NULL, NULL, 7, &plan), ENOENT);
	/* a rule that strips everything makes no number: that trunk is left out, and with no
	 * other trunk the number is refused as invalid */
	assert_int_equal(call_route_plan(&cc, "9", NULL, NULL, 7, &plan), 0);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.steps[0].trunk, 1);
	assert_int_equal(read_conf("[trunk a]\nhost = 1.2.3.4\nroute = 9 strip=1\n", &cc, &err),
			 0);
	assert_int_equal(call_route_plan(&cc, "9", NULL, NULL, 7, &plan), EINVAL);
}

/* Priorities order the plan whatever the file order; trunks of one priority come in an
 * order drawn by weight, and a failover goes to the other one of the pair. */
static void test_route_priority_weight(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};
	struct call_plan plan;
	unsigned first[4] = {0};

	(void)state;
	assert_int_equal(read_conf("[sip]\ntrunk_attempts = 4\n"
				   "[trunk last]\nhost = 1.2.3.1\npriority = 9\nroute = *\n"
				   "[trunk heavy]\nhost = 1.2.3.2\npriority = 2\nweight = 3\n"
				   "route = 0086\n"
				   "[trunk light]\nhost = 1.2.3.3\npriority = 2\nroute = 0086\n"
				   "[trunk best]\nhost = 1.2.3.4\npriority = 1\nroute = 0086\n",
				   &cc, &err), 0);
	assert_int_equal(cc.trunk_attempts, 4);
	for (uint64_t seed = 0; seed < 4000; seed++) {
		assert_int_equal(call_route_plan(&cc, "008612300000000", NULL, NULL, seed, &plan),
				 0);
		assert_int_equal(plan.n, 4);
		assert_int_equal(plan.steps[0].trunk, 3);           /* best */
		assert_true(plan.steps[1].trunk == 1 || plan.steps[1].trunk == 2);
		assert_int_equal(plan.steps[1].trunk + plan.steps[2].trunk, 3); /* both */
		assert_int_equal(plan.steps[3].trunk, 0);           /* last */
		first[plan.steps[1].trunk]++;
	}
	/* weight 3 against 1: about 3000 of 4000 (a loose bound, never flaky) */
	assert_in_range(first[1], 2700, 3300);
	/* one seed, one order */
	assert_int_equal(call_route_plan(&cc, "008612300000000", NULL, NULL, 42, &plan), 0);
	{
		unsigned again = plan.steps[1].trunk;

		assert_int_equal(call_route_plan(&cc, "008612300000000", NULL, NULL, 42, &plan),
				 0);
		assert_int_equal(plan.steps[1].trunk, again);
	}
	/* another number: only the catch-all */
	assert_int_equal(call_route_plan(&cc, "0044201234", NULL, NULL, 1, &plan), 0);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.steps[0].trunk, 0);
}

/* When a failed attempt may go to the next trunk: the path failed, and no phone rang. */
static void test_failover_rule(void **state)
{
	(void)state;
	/* no response / transport error */
	assert_true(call_failover_ok(0, ETIMEDOUT, false));
	assert_true(call_failover_ok(0, ECONNREFUSED, false));
	assert_false(call_failover_ok(0, 0, false));
	/* 408 and 5xx */
	assert_true(call_failover_ok(408, 0, false));
	for (uint16_t code = 500; code <= 599; code++)
		assert_true(call_failover_ok(code, 0, false));
	/* never after a ringing phone */
	assert_false(call_failover_ok(503, 0, true));
	assert_false(call_failover_ok(408, 0, true));
	assert_false(call_failover_ok(0, ETIMEDOUT, true));
	/* never after the callee's (or the network's) own answer */
	static const uint16_t no[] = {400, 401, 403, 404, 407, 480, 484, 486, 487, 488, 600,
				      603, 604, 606, 302};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (call_failover_ok(no[i], 0, false))
			print_message("%u fails over\n", no[i]);
		assert_false(call_failover_ok(no[i], 0, false));
	}
}

static uint32_t retry_after_of(const char *hdr)
{
	char text[512];
	struct sip_msg *msg;
	uint32_t secs;

	snprintf(text, sizeof(text),
		 "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n"
		 "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\n"
		 "CSeq: 1 INVITE\r\n%s%sContent-Length: 0\r\n\r\n", hdr, hdr[0] ? "\r\n" : "");
	msg = decode(text);
	secs = call_retry_after(msg);
	mem_deref(msg);
	return secs;
}

static void test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(retry_after_of("Retry-After: 30"), 30);
	assert_int_equal(retry_after_of("Retry-After: 18000;duration=3600"), CALL_RETRY_AFTER_MAX);
	assert_int_equal(retry_after_of("Retry-After: 120 (I'm in a meeting)"), 120);
	assert_int_equal(retry_after_of("Retry-After: soon"), 0);
	assert_int_equal(retry_after_of("Retry-After: 99999999999"), 0);
	assert_int_equal(retry_after_of(""), 0);
	assert_int_equal(call_retry_after(NULL), 0);
}

static void test_conf_errors(void **state)
{
	(void)state;
	conf_fails("[sip]\nlisten = nowhere\n", 2, "'listen' must be");
	conf_fails("[sip]\nring_timeout = 0\n", 2, "between 1 and 600");
	conf_fails("[sip]\ninbound_cps = 100001\n", 2, "inbound_cps");
	conf_fails("[sip]\ninbound_cps = -1\n", 2, "inbound_cps");
	conf_fails("[sip]\nudp_receive_bytes = 268435457\n", 2, "udp_receive_bytes");
	conf_fails("[sip]\nudp_receive_bytes = 4M\n", 2, "udp_receive_bytes");
	conf_fails("[sip]\nring_timeout = 200\nring_timeout_max = 100\n", 2, "must not exceed");
	conf_fails("[trunk]\nhost = 1.2.3.4\nroute = *\n", 1, "needs a name");
	conf_fails("[trunk a]\nroute = *\n", 1, "needs 'host'");
	conf_fails("[trunk a]\nhost = a b\nroute = *\n", 2, "IP address or a DNS name");
	conf_fails("[trunk a]\nhost = 1.2.3.4\n", 1, "no 'route' line");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = 12x\n", 3, "not a number prefix");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = 1 strip=x\n", 3, "strip=N");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = 1 prefix=a\n", 3, "prefix=");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = 1 zap\n", 3, "unknown word");
	conf_fails("[trunk a]\nhost = 1.2.3.4\ntransport = sctp\nroute = *\n", 3, "transport");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nproxy = 10.0.0.1\nroute = *\n", 3, "SIP URI");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nregister = yes\nroute = *\n", 3, "username");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nusername = a@b\nroute = *\n", 3, "username");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\nbogus = 1\n", 4, "bogus");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nweight = 0\nroute = *\n", 3, "weight");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nweight = 1001\nroute = *\n", 3, "weight");
	conf_fails("[trunk a]\nhost = 1.2.3.4\npriority = x\nroute = *\n", 3, "priority");
	conf_fails("[sip]\ntrunk_attempts = 0\n", 2, "trunk_attempts");
	conf_fails("[sip]\ntrunk_attempts = 17\n", 2, "trunk_attempts");
}

/* The SIP UDP socket is found by its bound address and its receive buffer grows; a UDP
 * socket bound nowhere near is not touched, and no socket at an address is ENOENT. */
static void test_udp_buffer(void **state)
{
	struct sa laddr, other;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), fd2 = socket(AF_INET, SOCK_DGRAM, 0);
	int before = 0, after = 0;
	socklen_t len = sizeof(int);
	unsigned got = 0;

	(void)state;
	assert_true(fd >= 0 && fd2 >= 0);
	sa_set_str(&laddr, "127.0.0.1", 0);
	assert_int_equal(bind(fd, &laddr.u.sa, laddr.len), 0);
	assert_int_equal(bind(fd2, &laddr.u.sa, laddr.len), 0);
	laddr.len = sizeof(laddr.u);
	assert_int_equal(getsockname(fd, &laddr.u.sa, &laddr.len), 0);
	assert_int_equal(getsockopt(fd2, SOL_SOCKET, SO_RCVBUF, &before, &len), 0);

	assert_int_equal(call_udp_buffer(&laddr, 1048576, &got), 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &after, &len), 0);
	assert_int_equal(got, (unsigned)after / 2);
	if (geteuid() == 0)
		assert_int_equal(got, 1048576); /* past net.core.rmem_max with SO_RCVBUFFORCE */
	assert_int_equal(getsockopt(fd2, SOL_SOCKET, SO_RCVBUF, &after, &len), 0);
	assert_int_equal(after, before);

	sa_set_str(&other, "127.0.0.2", sa_port(&laddr)); /* the same port, another address */
	assert_int_equal(call_udp_buffer(&other, 1048576, &got), ENOENT);
	assert_int_equal(call_udp_buffer(&laddr, 0, &got), EINVAL);
	assert_int_equal(call_udp_buffer(&laddr, 1u << 31, &got), EINVAL);
	close(fd);
	close(fd2);
}

static void test_numbers(void **state)
{
	(void)state;
	assert_true(call_number_ok("008612300000000"));
	assert_true(call_number_ok("+8612300000000"));
	assert_true(call_number_ok("1"));
	assert_false(call_number_ok(NULL));
	assert_false(call_number_ok(""));
	assert_false(call_number_ok("+"));
	assert_false(call_number_ok("1+2"));
	assert_false(call_number_ok("12 3"));
	assert_false(call_number_ok("123@x"));
	assert_false(call_number_ok("123456789012345678901234567890123"));
}

static void expect(enum call_cause cause, uint16_t code, bool rang, enum call_side by,
		   int status, const char *str, enum call_side side)
{
	struct call_end e;

	call_end_status(cause, code, rang, by, &e);
	assert_int_equal(e.status, status);
	assert_string_equal(e.status_str, str);
	assert_int_equal(e.side, side);
}

/* Transfer destinations called directly: only plain sip: URIs with safe parts. */
static void test_uri_ok(void **state)
{
	static const char *const good[] = {
		"sip:1001@10.0.0.5", "sip:agent.one@pbx.example:5062", "sip:1002@[::1]:5060",
		"sip:alice@127.0.0.1:16120;transport=tcp", "sip:+8613800000000@gw",
	};
	static const char *const bad[] = {
		"", "sip:", "sip:@host", "sip:1001", "sips:1001@host", "tel:+123",
		"sip:10 01@host", "sip:1001@host:0", "sip:1001@host:70000", "sip:1001@host:x",
		"sip:1001@ho st", "sip:1001@host;lr", "sip:1001@host\r\nX: y", "sip:a<b@host",
		"sip:1001@[::1", "sip:1001@host?subject=x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(call_uri_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (call_uri_ok(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_false(call_uri_ok(NULL));
}

static void test_end_status(void **state)
{
	(void)state;
	expect(CALL_CAUSE_ANSWERED, 200, true, CALL_SIDE_USER, 1, "ok", CALL_SIDE_USER);
	expect(CALL_CAUSE_ANSWERED, 200, true, CALL_SIDE_SYSTEM, 1, "ok", CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 486, true, CALL_SIDE_USER, 206, "busy", CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 600, false, CALL_SIDE_USER, 206, "busy", CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 603, false, CALL_SIDE_USER, 203, "userReject", CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 404, false, CALL_SIDE_USER, 205, "numberNotExist",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 604, false, CALL_SIDE_USER, 205, "numberNotExist",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 484, false, CALL_SIDE_USER, 215, "numberInvalid",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 480, true, CALL_SIDE_USER, 210, "notInService", CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 408, true, CALL_SIDE_USER, 202, "notAnswer", CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 403, false, CALL_SIDE_USER, 212, "carrierBlocked",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 401, false, CALL_SIDE_USER, 208, "operatorError",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 503, false, CALL_SIDE_USER, 208, "operatorError",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 488, false, CALL_SIDE_USER, 201, "unknown", CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 302, false, CALL_SIDE_USER, 201, "unknown", CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_SIP, 100, false, CALL_SIDE_USER, 0, "error", CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_RING_TIMEOUT, 0, true, CALL_SIDE_SYSTEM, 202, "notAnswer",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_RING_TIMEOUT, 0, false, CALL_SIDE_SYSTEM, 221,
	       "callerCancelWithoutRing", CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_CANCEL, 0, true, CALL_SIDE_SYSTEM, 220, "callerCancelWhileRing",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_CANCEL, 0, false, CALL_SIDE_SYSTEM, 221, "callerCancelWithoutRing",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_TRANSPORT, 0, false, CALL_SIDE_SYSTEM, 208, "operatorError",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_MEDIA, 200, true, CALL_SIDE_SYSTEM, 208, "operatorError",
	       CALL_SIDE_SYSTEM);
	expect(CALL_CAUSE_IN_CANCEL, 0, false, CALL_SIDE_USER, 102, "ivrGiveUp", CALL_SIDE_USER);
	expect(CALL_CAUSE_IN_REFUSED, 0, false, CALL_SIDE_SYSTEM, 0, "error", CALL_SIDE_SYSTEM);
	assert_string_equal(call_side_name(CALL_SIDE_USER), "user");
	assert_string_equal(call_side_name(CALL_SIDE_SYSTEM), "system");
}

static int info_key(const char *ctype, const char *body, char *key)
{
	char text[1024];
	struct sip_msg *msg;
	int rc;

	snprintf(text, sizeof(text),
		 "INFO sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n"
		 "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\n"
		 "CSeq: 2 INFO\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
		 ctype, strlen(body), body);
	msg = decode(text);
	rc = call_info_dtmf(msg, key);
	mem_deref(msg);
	return rc;
}

static void test_info_dtmf(void **state)
{
	char key = 0;

	(void)state;
	assert_int_equal(info_key("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n",
				  &key), 0);
	assert_int_equal(key, '5');
	assert_int_equal(info_key("application/dtmf-relay", "Duration=1\r\n signal = # \r\n",
				  &key), 0);
	assert_int_equal(key, '#');
	assert_int_equal(info_key("application/dtmf-relay", "Signal=10\r\n", &key), 0);
	assert_int_equal(key, '*');
	assert_int_equal(info_key("Application/DTMF", "5", &key), 0);
	assert_int_equal(key, '5');
	assert_int_equal(info_key("application/dtmf", "b\r\n", &key), 0);
	assert_int_equal(key, 'B');
	assert_int_equal(info_key("application/dtmf", "55", &key), EBADMSG);
	assert_int_equal(info_key("application/dtmf", "", &key), EBADMSG);
	assert_int_equal(info_key("application/dtmf-relay", "Duration=160\r\n", &key), EBADMSG);
	assert_int_equal(info_key("application/dtmf-relay", "Signal=x\r\n", &key), EBADMSG);
	assert_int_equal(info_key("text/plain", "5", &key), ENOTSUP);
}

static void test_uui(void **state)
{
	char hex[64], out[64];
	struct sip_msg *msg;

	(void)state;
	assert_int_equal(call_uui_hex("order-42", hex, sizeof(hex)), 0);
	assert_string_equal(hex, "6f726465722d3432");
	assert_int_equal(call_uui_hex("abc", hex, 6), EINVAL);
	msg = decode("INVITE sip:8001@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n"
		     "From: <sip:+86-123.4@b>;tag=1\r\nTo: <sip:8001@d>\r\nCall-ID: x\r\n"
		     "CSeq: 1 INVITE\r\nUser-to-User: 68656C6C6F;encoding=hex;purpose=x\r\n"
		     "Content-Length: 0\r\n\r\n");
	assert_int_equal(call_uui_decode(msg, out, sizeof(out)), 0);
	assert_string_equal(out, "hello");
	assert_int_equal(call_uri_number(&msg->from.uri, out, sizeof(out)), 0);
	assert_string_equal(out, "+861234");
	assert_int_equal(call_uri_number(&msg->uri, out, sizeof(out)), 0);
	assert_string_equal(out, "8001");
	mem_deref(msg);

	msg = decode("INVITE sip:alice@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n"
		     "From: <sip:a@b>;tag=1\r\nTo: <sip:8001@d>\r\nCall-ID: x\r\n"
		     "CSeq: 1 INVITE\r\nUser-to-User: 0a0b\r\n"
		     "Content-Length: 0\r\n\r\n");
	assert_int_equal(call_uui_decode(msg, out, sizeof(out)), EINVAL); /* control bytes */
	assert_int_equal(call_uri_number(&msg->uri, out, sizeof(out)), EINVAL);
	mem_deref(msg);

	msg = decode("INVITE sip:1@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n"
		     "From: <sip:a@b>;tag=1\r\nTo: <sip:8001@d>\r\nCall-ID: x\r\n"
		     "CSeq: 1 INVITE\r\nUser-to-User: 616;encoding=base64\r\n"
		     "Content-Length: 0\r\n\r\n");
	assert_int_equal(call_uui_decode(msg, out, sizeof(out)), EINVAL);
	mem_deref(msg);
}

static void test_sdp(void **state)
{
	static const char offer[] =
		"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 18 8 96\r\na=rtpmap:96 telephone-event/8000\r\n"
		"a=sendonly\r\n";
	static const char no_codec[] =
		"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 18\r\n";
	const enum media_codec codecs[2] = {MEDIA_PCMU, MEDIA_PCMA};
	struct call_media_params mp;
	struct call_sdp s;
	struct mbuf *mb = mbuf_alloc(512), *ans = NULL;
	struct sa laddr;

	(void)state;
	sa_set_str(&laddr, "127.0.0.1", 20000);
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 2), 0);
	mbuf_write_str(mb, offer);
	mb->pos = 0;
	assert_int_equal(call_sdp_decode(&s, mb, true, &mp), 0);
	assert_int_equal(mp.codec, MEDIA_PCMA);
	assert_int_equal(mp.telev_pt, 96);
	assert_true(mp.hold);
	assert_int_equal(sa_port(&mp.remote), 4000);
	assert_int_equal(call_sdp_encode(&s, false, &ans), 0);
	assert_non_null(strstr((char *)ans->buf, "a=recvonly"));
	assert_non_null(strstr((char *)ans->buf, "m=audio 20000 RTP/AVP 8 96"));
	ans = mem_deref(ans);
	mbuf_reset(mb);
	mbuf_write_str(mb, no_codec);
	mb->pos = 0;
	assert_int_equal(call_sdp_decode(&s, mb, true, &mp), EPROTO);
	mbuf_reset(mb);
	mbuf_write_str(mb, "garbage");
	mb->pos = 0;
	assert_int_equal(call_sdp_decode(&s, mb, true, &mp), EPROTO);
	call_sdp_close(&s);
	mem_deref(mb);
}

/* At most `limit` in any 1000 ms: a burst takes the whole second's share, the next waits
 * for the oldest to be a second old (not for a refill, as a token bucket would allow). */
static void test_rate_window(void **state)
{
	struct call_rate r;
	uint64_t wait = 0;

	(void)state;
	assert_int_equal(call_rate_init(&r, 0), 0);
	for (int i = 0; i < 100; i++)
		assert_true(call_rate_room(&r, 5, NULL)); /* no limit */
	call_rate_close(&r);
	assert_int_equal(call_rate_init(&r, CALL_CPS_MAX + 1), EINVAL);

	assert_int_equal(call_rate_init(&r, 2), 0);
	assert_true(call_rate_room(&r, 1000, &wait));
	call_rate_note(&r, 1000);
	assert_true(call_rate_room(&r, 1000, &wait));
	call_rate_note(&r, 1000);
	assert_false(call_rate_room(&r, 1000, &wait));
	assert_int_equal(wait, 1000);
	assert_false(call_rate_room(&r, 1999, &wait));
	assert_int_equal(wait, 1);
	assert_true(call_rate_room(&r, 2000, &wait));
	call_rate_note(&r, 2000);
	/* 1000 and 2000 are not in one window of 1000 ms: a second call at 2000 is fine */
	assert_true(call_rate_room(&r, 2000, NULL));
	call_rate_note(&r, 2000);
	assert_false(call_rate_room(&r, 2999, &wait));
	assert_int_equal(wait, 1);
	assert_true(call_rate_room(&r, 3000, NULL));
	call_rate_close(&r);

	/* any sequence the window admits holds no 1 s span with more than 3 */
	assert_int_equal(call_rate_init(&r, 3), 0);
	{
		uint64_t at[64];
		unsigned n = 0;

		for (uint64_t t = 0; t < 5000 && n < 64; t += 37) {
			if (call_rate_room(&r, t, NULL)) {
				call_rate_note(&r, t);
				at[n++] = t;
			}
		}
		for (unsigned i = 3; i < n; i++)
			assert_true(at[i] - at[i - 3] >= 1000);
		assert_true(n >= 12);
	}
	call_rate_close(&r);
}

static void test_conf_limits(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};

	(void)state;
	assert_int_equal(read_conf("[trunk a]\nhost = 127.0.0.1\nroute = *\nmax_channels = 3\n"
				   "cps = 2\ntrying_timeout_ms = 2500\n"
				   "[trunk b]\nhost = 127.0.0.1\ntransport = tcp\nroute = *\n",
				   &cc, &err), 0);
	assert_int_equal(cc.trunks[0].max_channels, 3);
	assert_int_equal(cc.trunks[0].cps, 2);
	assert_int_equal(cc.trunks[0].trying_timeout_ms, 2500);
	assert_int_equal(cc.trunks[1].max_channels, 0);
	assert_int_equal(cc.trunks[1].cps, 0);
	assert_int_equal(cc.trunks[1].trying_timeout_ms, 0); /* TCP: no silent peer */
	conf_fails("[trunk a]\nhost = h\nroute = *\ncps = 1001\n", 4, "cps");
	conf_fails("[trunk a]\nhost = h\nroute = *\nmax_channels = -1\n", 4, "max_channels");
	conf_fails("[trunk a]\nhost = h\nroute = *\ntrying_timeout_ms = 40000\n", 4,
		   "trying_timeout_ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_conf_limits),
		cmocka_unit_test(test_rate_window),
		cmocka_unit_test(test_route_skip),
		cmocka_unit_test(test_route_priority_weight),
		cmocka_unit_test(test_failover_rule),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_udp_buffer),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_uri_ok),
		cmocka_unit_test(test_end_status),
		cmocka_unit_test(test_info_dtmf),
		cmocka_unit_test(test_uui),
		cmocka_unit_test(test_sdp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
