/* Unit tests of the call module's pure parts: [sip]/[trunk] config, dial rules and the
 * route plan (priority, weight), the trunk limits (cps window), when to fail over, Retry-After, the EndStatus table, SIP INFO DTMF bodies, User-to-User and numbers in URIs; NAT: external addresses, the advertised address per trunk, the Via rewrite. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
	assert_false(cc.libre_timers_list); /* libre's timers on the wheel by default */
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
	assert_int_equal(read_conf("[sip]\ntrunk_attempts = 4\nlibre_timers = list\n"
				   "[trunk last]\nhost = 1.2.3.1\npriority = 9\nroute = *\n"
				   "[trunk heavy]\nhost = 1.2.3.2\npriority = 2\nweight = 3\n"
				   "route = 0086\n"
				   "[trunk light]\nhost = 1.2.3.3\npriority = 2\nroute = 0086\n"
				   "[trunk best]\nhost = 1.2.3.4\npriority = 1\nroute = 0086\n",
				   &cc, &err), 0);
	assert_int_equal(cc.trunk_attempts, 4);
	assert_true(cc.libre_timers_list);
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

static void test_conf_trunk_codecs(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};

	(void)state;
	assert_int_equal(read_conf("[media]\ncodecs = g722, pcmu\n"
				   "[trunk soft]\nhost = 1.2.3.1\nroute = *\ncodecs = OPUS,pcma\n"
				   "[trunk carrier]\nhost = 1.2.3.2\nroute = 0086\n", &cc, &err), 0);
	assert_int_equal(cc.ncodecs, 2);
	assert_int_equal(cc.codecs[0], MEDIA_G722);
	assert_int_equal(cc.codecs[1], MEDIA_PCMU);
	assert_int_equal(cc.trunks[0].ncodecs, 2);
	assert_int_equal(cc.trunks[0].codecs[0], MEDIA_OPUS);
	assert_int_equal(cc.trunks[0].codecs[1], MEDIA_PCMA);
	assert_int_equal(cc.trunks[1].ncodecs, 0); /* [media] codecs */
}

static void test_conf_trunk_uui(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};

	(void)state;
	assert_int_equal(read_conf("[trunk a]\nhost = 1.2.3.1\nroute = *\n"
				   "[trunk b]\nhost = 1.2.3.2\nroute = *\nuui = truncate:128\n"
				   "tcp_for_large = yes\n"
				   "[trunk c]\nhost = 1.2.3.3\nroute = *\nuui = drop\n"
				   "[trunk d]\nhost = 1.2.3.4\nroute = *\nuui = refuse\n", &cc,
				   &err), 0);
	assert_int_equal(cc.trunks[0].uui, CALL_UUI_CARRY);
	assert_false(cc.trunks[0].tcp_for_large);
	assert_int_equal(cc.trunks[1].uui, CALL_UUI_TRUNCATE);
	assert_int_equal(cc.trunks[1].uui_max, 128);
	assert_true(cc.trunks[1].tcp_for_large);
	assert_int_equal(cc.trunks[2].uui, CALL_UUI_DROP);
	assert_int_equal(cc.trunks[3].uui, CALL_UUI_REFUSE);
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\nuui = truncate:0\n", 4, "uui must be");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\nuui = truncate:1025\n", 4,
		   "truncate:N (N 1-1024 bytes)");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\nuui = truncate:12x\n", 4, "uui must be");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\nuui = strip\n", 4, "not 'strip'");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\ntransport = tcp\ntcp_for_large = yes\n",
		   5, "tcp_for_large is for a UDP trunk");
	conf_fails("[sip]\nlisten = udp 127.0.0.1:5060\n[trunk a]\nhost = 1.2.3.4\nroute = *\n"
		   "tcp_for_large = yes\n", 6, "needs cccd to listen on TCP");
}

static void test_conf_errors(void **state)
{
	(void)state;
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\ncodecs = g729\n", 4, "codecs");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\ncodecs = opus,opus\n", 4, "codecs");
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
	conf_fails("[trunk a]\nhost = 1.2.3.4\n100rel = maybe\nroute = *\n", 3, "100rel");
	conf_fails("[sip]\ntrunk_attempts = 0\n", 2, "trunk_attempts");
	conf_fails("[sip]\ntrunk_attempts = 17\n", 2, "trunk_attempts");
	conf_fails("[sip]\nlibre_timers = heap\n", 2, "libre_timers");
}

/* [trunk] early media keys: announcement lines load their files (by status number or
 * name), defaults listen and hang up, bad lines name the key; the status table of what an
 * announcement or a SIT may give. */
static void test_conf_early_media(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};
	char text[1024];
	const char *root = getenv("CCCD_ROOT") ? getenv("CCCD_ROOT") : ".";

	(void)state;
	snprintf(text, sizeof(text), "[trunk a]\nhost = 1.2.3.4\nroute = *\n"
		 "announcement = 204 %s/tests/data/earlyaudio/poweroff.wav\n"
		 "announcement = numberNotExist %s/tests/data/earlyaudio/vacant.wav\n"
		 "[trunk b]\nhost = 1.2.3.5\nroute = *\nearly_listen = no\n"
		 "early_hangup = no\n", root, root);
	memset(&cc, 0, sizeof(cc));
	assert_int_equal(read_conf(text, &cc, &err), 0);
	assert_int_equal(cc.trunks[0].nannounce, 2);
	assert_int_equal(cc.trunks[0].announce[0].status, 204);
	assert_int_equal(cc.trunks[0].announce[1].status, 205);
	assert_true(cc.trunks[0].early_listen && cc.trunks[0].early_hangup);
	assert_false(cc.trunks[1].early_listen || cc.trunks[1].early_hangup);
	assert_non_null(earlyaudio_ref_find(cc.trunks[0].announce[1].path));

	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\nannouncement = 204\n", 4,
		   "announcement");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\nannouncement = 201 /x.wav\n", 4,
		   "not an EndStatus");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\nannouncement = 204x /x.wav\n", 4,
		   "not an EndStatus");
	conf_fails("[trunk a]\nhost = 1.2.3.4\nroute = *\nannouncement = 204 /no/such.wav\n",
		   4, "/no/such.wav");
	snprintf(text, sizeof(text), "[trunk a]\nhost = 1.2.3.4\nroute = *\nearly_listen = no\n"
		 "announcement = 204 %s/tests/data/earlyaudio/poweroff.wav\n", root);
	conf_fails(text, 4, "early_listen = no");

	assert_string_equal(call_status_heard(204), "powerOff");
	assert_string_equal(call_status_heard(219), "promptCallForwarding");
	assert_null(call_status_heard(1));
	assert_null(call_status_heard(201));
	assert_int_equal(call_status_sit(EARLYAUDIO_SIT_VACANT), 205);
	assert_int_equal(call_status_sit(EARLYAUDIO_SIT_INTERCEPT), 215);
	assert_int_equal(call_status_sit(EARLYAUDIO_SIT_REORDER), 208);
	assert_int_equal(call_status_sit(EARLYAUDIO_SIT_NO_CIRCUIT), 208);
}

/* What a finding does to the end: an announcement's status replaces the table's when the
 * call ends unanswered (the carrier's failure, the ring timeout, cccd's CANCEL), never
 * for an answered call or a transport error; ring-back and speech give none; a lighter
 * finding after a heavier one changes nothing; the evidence says what was heard. */
static void test_heard_end(void **state)
{
	static const enum call_cause over[] = {CALL_CAUSE_SIP, CALL_CAUSE_RING_TIMEOUT,
					       CALL_CAUSE_CANCEL};
	struct call_trunk_conf tc = {.early_listen = true, .early_hangup = true, .nannounce = 1,
				     .announce = {{204, "/x/poweroff.wav"}}};
	struct call_heard h = {.listening = true, .sid = "test"};
	struct media_heard ring = {.what = EARLYAUDIO_RINGBACK, .at_ms = 700};
	struct media_heard ann = {.what = EARLYAUDIO_ANNOUNCEMENT, .value = 0, .at_ms = 3000};
	struct media_heard sit = {.what = EARLYAUDIO_SIT, .value = EARLYAUDIO_SIT_VACANT};
	struct call_evidence e = {0};
	struct call_end end;

	(void)state;
	assert_false(call_heard_take(&h, &tc, &ring));
	call_end_status(CALL_CAUSE_SIP, 486, true, CALL_SIDE_SYSTEM, &end);
	call_heard_end(&h, CALL_CAUSE_SIP, &end);
	assert_int_equal(end.status, 206);

	assert_true(call_heard_take(&h, &tc, &ann)); /* early_hangup: cancel */
	assert_false(call_heard_take(&h, &tc, &sit)); /* lighter: ignored */
	for (unsigned i = 0; i < 3; i++) {
		call_end_status(over[i], 480, true, CALL_SIDE_SYSTEM, &end);
		call_heard_end(&h, over[i], &end);
		assert_int_equal(end.status, 204);
		assert_string_equal(end.status_str, "powerOff");
	}
	call_end_status(CALL_CAUSE_ANSWERED, 200, true, CALL_SIDE_USER, &end);
	call_heard_end(&h, CALL_CAUSE_ANSWERED, &end);
	assert_int_equal(end.status, 1);
	call_end_status(CALL_CAUSE_TRANSPORT, 0, true, CALL_SIDE_SYSTEM, &end);
	call_heard_end(&h, CALL_CAUSE_TRANSPORT, &end);
	assert_int_equal(end.status, 208);

	call_heard_evidence(&h, &e);
	assert_string_equal(e.early_heard, "announcement");
	assert_string_equal(e.early_announcement, "poweroff.wav");
	assert_int_equal(e.early_status, 204);

	/* a SIT on a trunk that does not hang up: its status, no cancel */
	tc.early_hangup = false;
	h = (struct call_heard){.listening = true, .sid = "test"};
	assert_false(call_heard_take(&h, &tc, &sit));
	call_end_status(CALL_CAUSE_SIP, 480, true, CALL_SIDE_SYSTEM, &end);
	call_heard_end(&h, CALL_CAUSE_SIP, &end);
	assert_int_equal(end.status, 205);
	call_heard_evidence(&h, &e);
	assert_string_equal(e.early_sit, "vacant");
	/* not listening (stopped at the answer): nothing taken */
	h.listening = false;
	assert_false(call_heard_take(&h, &tc, &ann));
	assert_int_equal(h.status, 205);
}

/* [trunk] 100rel: its three values and the INVITE's header lines for each. */
static void test_conf_100rel(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};

	(void)state;
	assert_int_equal(read_conf("[trunk a]\nhost = 1.2.3.4\nroute = *\n"
				   "[trunk b]\nhost = 1.2.3.4\n100rel = required\nroute = *\n"
				   "[trunk c]\nhost = 1.2.3.4\n100rel = off\nroute = *\n",
				   &cc, &err), 0);
	assert_int_equal(cc.trunks[0].rel100, CALL_REL100_SUPPORTED);
	assert_int_equal(cc.trunks[1].rel100, CALL_REL100_REQUIRED);
	assert_int_equal(cc.trunks[2].rel100, CALL_REL100_OFF);
	assert_string_equal(call_rel100_tag(CALL_REL100_SUPPORTED), "100rel");
	assert_string_equal(call_rel100_tag(CALL_REL100_REQUIRED), "100rel");
	assert_null(call_rel100_tag(CALL_REL100_OFF));
	assert_string_equal(call_rel100_hdr(CALL_REL100_SUPPORTED), "");
	assert_string_equal(call_rel100_hdr(CALL_REL100_REQUIRED), "Require: 100rel\r\n");
	assert_string_equal(call_rel100_hdr(CALL_REL100_OFF), "");
}

static int msg_from(struct sip_msg **msgp, const char *text)
{
	struct mbuf *mb = mbuf_alloc(strlen(text));
	int err;

	if (!mb)
		return ENOMEM;
	mbuf_write_str(mb, text);
	mb->pos = 0;
	err = sip_msg_decode(msgp, mb);
	mem_deref(mb);
	return err;
}

/* A reliable 18x that cannot be PRACKed is refused before anything is sent (no RSeq, a bad
 * one, no To tag); an unreliable one needs no PRACK. Early dialogs are told apart by To
 * tag, at most CALL_FORKS_MAX of them. */
static void test_early_prack_checks(void **state)
{
	static const char *const head =
		"SIP/2.0 183 Session Progress\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
		"From: <sip:1@a>;tag=ours\r\nCall-ID: c1\r\nCSeq: 7 INVITE\r\n"
		"Contact: <sip:127.0.0.1:5080>\r\n";
	static const struct { const char *hdrs; int err; } cases[] = {
		{"To: <sip:2@b>;tag=t1\r\n", 0},                          /* unreliable */
		{"To: <sip:2@b>;tag=t1\r\nRequire: 100rel\r\n", EBADMSG},  /* no RSeq */
		{"To: <sip:2@b>;tag=t1\r\nRequire: 100rel\r\nRSeq: x\r\n", EBADMSG},
		{"To: <sip:2@b>;tag=t1\r\nRequire: 100rel\r\nRSeq: 0\r\n", EBADMSG},
		{"To: <sip:2@b>;tag=t1\r\nRequire: 100rel\r\nRSeq: 99999999999\r\n", EBADMSG},
		{"To: <sip:2@b>\r\nRequire: 100rel\r\nRSeq: 1\r\n", EBADMSG}, /* no tag */
	};
	struct call_early e = {0};
	struct sip_dialog *dlg = NULL;
	char text[600];

	(void)state;
	assert_int_equal(sip_dialog_alloc(&dlg, "sip:2@b", "sip:2@b", NULL, "sip:1@a", NULL, 0),
			 0);
	call_early_start(&e, dlg, "test");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_msg *msg = NULL;

		snprintf(text, sizeof(text), "%s%sContent-Length: 0\r\n\r\n", head, cases[i].hdrs);
		assert_int_equal(msg_from(&msg, text), 0);
		assert_int_equal(call_early_prack(&e, NULL, msg), cases[i].err);
		mem_deref(msg);
	}
	for (unsigned i = 0; i < CALL_FORKS_MAX; i++) {
		char tag[16];
		struct pl pl;

		snprintf(tag, sizeof(tag), "fork%u", i);
		pl_set_str(&pl, tag);
		assert_non_null(call_early_fork(&e, &pl));
		assert_ptr_equal(call_early_fork(&e, &pl), &e.forks[i]);
	}
	{
		struct pl pl = PL("one-more");

		assert_null(call_early_fork(&e, &pl));
	}
	call_early_close(&e);
	mem_deref(dlg);
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
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 2, CALL_SRTP_OFF), 0);
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

/* SDES (RFC 4568): what each [trunk] srtp setting offers, accepts and refuses. */
static int sdp_read(struct call_sdp *s, const char *text, bool offer, struct call_media_params *mp)
{
	struct mbuf *mb = mbuf_alloc(1024);
	int err;

	mbuf_write_str(mb, text);
	mb->pos = 0;
	err = call_sdp_decode(s, mb, offer, mp);
	mem_deref(mb);
	return err;
}

static void test_sdp_srtp(void **state)
{
	/* key: 30 bytes 0x01..0x1e */
	static const char key[] = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e";
	char savp[512], avp_crypto[512], mki[512], answer[512], answer32[512];
	static const char plain[] =
		"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\n";
	static const char savp_nokey[] =
		"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/SAVP 0\r\n";
	const enum media_codec codecs[1] = {MEDIA_PCMU};
	struct call_media_params mp;
	struct call_sdp s;
	struct mbuf *out = NULL;
	struct sa laddr;
	uint8_t want[MEDIA_SRTP_KEY_LEN];

	(void)state;
	for (unsigned i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i + 1);
	snprintf(savp, sizeof(savp), "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
		 "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"
		 "a=crypto:7 AES_CM_256_HMAC_SHA1_80 inline:%s%s\r\n"
		 "a=crypto:9 AES_CM_128_HMAC_SHA1_32 inline:%s|2^31\r\n", key, key, key);
	snprintf(avp_crypto, sizeof(avp_crypto), "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
		 "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n", key);
	snprintf(mki, sizeof(mki), "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
		 "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^20|1:4\r\n", key);
	snprintf(answer, sizeof(answer), "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
		 "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n", key);
	snprintf(answer32, sizeof(answer32), "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
		 "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:%s\r\n", key);
	sa_set_str(&laddr, "127.0.0.1", 20000);

	/* required: a plain offer is refused (488 in call.c), a keyed one answered with the
	 * first usable line's tag and suite and cccd's own key */
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 1, CALL_SRTP_REQUIRED), 0);
	assert_int_equal(sdp_read(&s, plain, true, &mp), EACCES);
	call_sdp_close(&s);
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 1, CALL_SRTP_REQUIRED), 0);
	assert_int_equal(sdp_read(&s, savp, true, &mp), 0);
	assert_int_equal(mp.srtp.suite, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32);
	assert_memory_equal(mp.srtp.rx_key, want, sizeof(want));
	assert_memory_equal(mp.srtp.tx_key, s.key, sizeof(want));
	assert_memory_not_equal(mp.srtp.tx_key, want, sizeof(want));
	assert_int_equal(call_sdp_encode(&s, false, &out), 0);
	out->pos = out->end;
	mbuf_write_u8(out, 0);
	assert_non_null(strstr((char *)out->buf, "m=audio 20000 RTP/SAVP 0"));
	assert_non_null(strstr((char *)out->buf, "a=crypto:9 AES_CM_128_HMAC_SHA1_32 inline:"));
	assert_null(strstr((char *)out->buf, key));
	out = mem_deref(out);
	call_sdp_close(&s);
	/* an MKI cannot be used: refused */
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 1, CALL_SRTP_REQUIRED), 0);
	assert_int_equal(sdp_read(&s, mki, true, &mp), EACCES);
	call_sdp_close(&s);

	/* required, outbound: the offer is RTP/SAVP with a key; the answer must key it */
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 1, CALL_SRTP_REQUIRED), 0);
	assert_int_equal(call_sdp_encode(&s, true, &out), 0);
	out->pos = out->end;
	mbuf_write_u8(out, 0);
	assert_non_null(strstr((char *)out->buf, "m=audio 20000 RTP/SAVP 0"));
	assert_non_null(strstr((char *)out->buf, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	out = mem_deref(out);
	assert_int_equal(sdp_read(&s, savp_nokey, false, &mp), EACCES);
	assert_int_equal(sdp_read(&s, answer32, false, &mp), EACCES); /* not what we offered */
	assert_int_equal(sdp_read(&s, answer, false, &mp), 0);
	assert_int_equal(mp.srtp.suite, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_memory_equal(mp.srtp.rx_key, want, sizeof(want));
	call_sdp_close(&s);

	/* optional: offered on RTP/AVP; a plain offer is answered plain */
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 1, CALL_SRTP_OPTIONAL), 0);
	assert_int_equal(call_sdp_encode(&s, true, &out), 0);
	out->pos = out->end;
	mbuf_write_u8(out, 0);
	assert_non_null(strstr((char *)out->buf, "m=audio 20000 RTP/AVP 0"));
	assert_non_null(strstr((char *)out->buf, "a=crypto:1 "));
	out = mem_deref(out);
	call_sdp_close(&s);
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 1, CALL_SRTP_OPTIONAL), 0);
	assert_int_equal(sdp_read(&s, plain, true, &mp), 0);
	assert_int_equal(mp.srtp.suite, MEDIA_SRTP_NONE);
	assert_int_equal(call_sdp_encode(&s, false, &out), 0);
	out->pos = out->end;
	mbuf_write_u8(out, 0);
	assert_null(strstr((char *)out->buf, "a=crypto"));
	out = mem_deref(out);
	call_sdp_close(&s);
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 1, CALL_SRTP_OPTIONAL), 0);
	assert_int_equal(sdp_read(&s, avp_crypto, true, &mp), 0);
	assert_int_equal(mp.srtp.suite, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80);
	call_sdp_close(&s);

	/* off: keys are ignored, an RTP/SAVP offer cannot be taken */
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 1, CALL_SRTP_OFF), 0);
	assert_int_equal(sdp_read(&s, avp_crypto, true, &mp), 0);
	assert_int_equal(mp.srtp.suite, MEDIA_SRTP_NONE);
	assert_int_equal(call_sdp_encode(&s, false, &out), 0);
	out->pos = out->end;
	mbuf_write_u8(out, 0);
	assert_null(strstr((char *)out->buf, "a=crypto"));
	out = mem_deref(out);
	call_sdp_close(&s);
	assert_int_equal(call_sdp_init(&s, &laddr, codecs, 1, CALL_SRTP_OFF), 0);
	assert_int_not_equal(sdp_read(&s, savp, true, &mp), 0);
	call_sdp_close(&s);
}

/* TLS and SRTP keys: what each needs, and the mistakes named. */
static void test_conf_tls_srtp(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};

	(void)state;
	assert_int_equal(read_conf("[trunk a]\nhost = 10.0.0.1\nroute = *\nsrtp = required\n"
				   "[trunk b]\nhost = 10.0.0.2\nroute = *\n", &cc, &err), 0);
	assert_int_equal(cc.trunks[0].srtp, CALL_SRTP_REQUIRED);
	assert_int_equal(cc.trunks[1].srtp, CALL_SRTP_OFF);
	assert_false(cc.tls_listen);
	conf_fails("[trunk a]\nhost = 10.0.0.1\nroute = *\nsrtp = maybe\n", 4, "srtp");
	conf_fails("[trunk a]\nhost = 10.0.0.1\nroute = *\ntransport = tls\n", 4,
		   "needs [sip] tls_listen");
	conf_fails("[trunk a]\nhost = 10.0.0.1\nroute = *\ntls_verify = false\n", 1,
		   "TLS keys but its transport is not tls");
	conf_fails("[sip]\ntls_listen = 127.0.0.1:5061\n", 2, "go together");
	conf_fails("[sip]\ntls_listen = 127.0.0.1:5061\ntls_cert = /nonexistent.crt\n"
		   "tls_key = /nonexistent.key\n", 3, "tls_cert: not a readable PEM");
}

/* [sip]/[media] external_ip and symmetric_rtp, inherited by trunks unless they say
 * otherwise ("local": the bound address, for a trunk over a private network). */
static void test_conf_nat(void **state)
{
	struct call_conf cc;
	struct conf_err err = {0};
	struct sa local, adv;

	(void)state;
	assert_int_equal(read_conf("[sip]\nexternal_ip = 203.0.113.5\n"
				   "[media]\nexternal_ip = 203.0.113.6\nsymmetric_rtp = any\n"
				   "[trunk internet]\nhost = 198.51.100.1\nroute = *\n"
				   "[trunk private]\nhost = 10.0.0.9\nroute = *\n"
				   "sip_external_ip = local\nmedia_external_ip = local\n"
				   "symmetric_rtp = no\n"
				   "[trunk other]\nhost = 10.0.0.10\nroute = *\n"
				   "media_external_ip = 192.0.2.7\n", &cc, &err), 0);
	assert_string_equal(cc.sip_external, "203.0.113.5");
	assert_string_equal(cc.media_external, "203.0.113.6");
	assert_int_equal(cc.latch, MEDIA_LATCH_ANY);
	assert_string_equal(cc.trunks[0].sip_external, "203.0.113.5");
	assert_string_equal(cc.trunks[0].media_external, "203.0.113.6");
	assert_int_equal(cc.trunks[0].latch, MEDIA_LATCH_ANY);
	assert_string_equal(cc.trunks[1].sip_external, "");
	assert_string_equal(cc.trunks[1].media_external, "");
	assert_int_equal(cc.trunks[1].latch, MEDIA_LATCH_OFF);
	assert_string_equal(cc.trunks[2].media_external, "192.0.2.7");

	/* the address in SDP and Contact: the port kept, the IP the one for the peer */
	sa_set_str(&local, "10.0.0.2", 20000);
	call_advertised(&cc, 0, true, &local, &adv);
	assert_int_equal(sa_port(&adv), 20000);
	assert_true(!sa_set_str(&local, "203.0.113.6", 20000) && sa_cmp(&adv, &local, SA_ALL));
	sa_set_str(&local, "10.0.0.2", 5060);
	call_advertised(&cc, 0, false, &local, &adv);
	assert_int_equal(sa_in(&adv), 0xcb007105); /* 203.0.113.5 */
	call_advertised(&cc, 1, false, &local, &adv);
	assert_true(sa_cmp(&adv, &local, SA_ALL));
	call_advertised(&cc, 2, true, &local, &adv);
	assert_int_equal(sa_in(&adv), 0xc0000207); /* 192.0.2.7 */
	call_advertised(&cc, -1, true, &local, &adv);
	assert_int_equal(sa_in(&adv), 0xcb007106);
	/* an IPv6 socket is not advertised as an IPv4 address */
	sa_set_str(&local, "::1", 5060);
	call_advertised(&cc, -1, false, &local, &adv);
	assert_true(sa_cmp(&adv, &local, SA_ALL));

	/* without keys: the bound address everywhere, symmetric RTP on the hosts */
	assert_int_equal(read_conf("[trunk t]\nhost = 10.0.0.1\nroute = *\n", &cc, &err), 0);
	assert_string_equal(cc.sip_external, "");
	assert_int_equal(cc.trunks[0].latch, MEDIA_LATCH_HOST);
	sa_set_str(&local, "10.0.0.2", 20000);
	call_advertised(&cc, 0, true, &local, &adv);
	assert_true(sa_cmp(&adv, &local, SA_ALL));

	conf_fails("[sip]\nexternal_ip = my.host\n", 2, "'external_ip' must be a numeric IP");
	conf_fails("[sip]\nexternal_ip = 0.0.0.0\n", 2, "'external_ip' must be a numeric IP");
	conf_fails("[sip]\nexternal_ip = local\n", 2, "'external_ip' must be a numeric IP");
	conf_fails("[media]\n\nexternal_ip = 1.2.3\n", 3, "external_ip: '1.2.3' is not");
	conf_fails("[media]\nsymmetric_rtp = maybe\n", 2, "symmetric_rtp");
	conf_fails("[trunk t]\nhost = 10.0.0.1\nroute = *\nsip_external_ip = x\n", 4,
		   "'sip_external_ip' must be a numeric IP address peers can reach or 'local'");
	conf_fails("[trunk t]\nhost = 10.0.0.1\nroute = *\nmedia_external_ip = ::\n", 4,
		   "'media_external_ip' must be");
	conf_fails("[trunk t]\nhost = 10.0.0.1\nroute = *\nsymmetric_rtp = 1\n", 4,
		   "symmetric_rtp");
}

static void via_case(const char *in, const char *laddr, const char *adv, const char *want)
{
	struct mbuf *mb = mbuf_alloc(64);
	struct sa l, a;
	char *out;

	assert_int_equal(sa_decode(&l, laddr, strlen(laddr)), 0);
	assert_int_equal(sa_decode(&a, adv, strlen(adv)), 0);
	mbuf_write_str(mb, "XX"); /* the buffer need not start at the message */
	mbuf_write_str(mb, in);
	mb->pos = 2;
	assert_int_equal(call_via_advertise(mb, &l, &a), 0);
	assert_int_equal(mb->pos, 2);
	assert_int_equal(mbuf_strdup(mb, &out, mbuf_get_left(mb)), 0);
	assert_string_equal(out, want);
	mem_deref(out);
	mem_deref(mb);
}

/* Our requests' top Via on the advertised address; nothing else is touched. */
static void test_via_advertise(void **state)
{
	const char *req = "INVITE sip:1@198.51.100.1 SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;rport\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK0\r\n"
			  "Content-Length: 0\r\n\r\n";

	(void)state;
	via_case(req, "10.0.0.2:5060", "203.0.113.5:5060",
		 "INVITE sip:1@198.51.100.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1;rport\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK0\r\n"
		 "Content-Length: 0\r\n\r\n");
	/* IPv6 in brackets */
	via_case("BYE sip:x@[2001:db8::1] SIP/2.0\r\nv: SIP/2.0/UDP [fd00::2]:5060\r\n\r\n",
		 "[fd00::2]:5060", "[2001:db8::5]:5060",
		 "BYE sip:x@[2001:db8::1] SIP/2.0\r\nv: SIP/2.0/UDP [2001:db8::5]:5060\r\n\r\n");
	/* another sent-by (already rewritten: a retransmission), a response, no Via */
	via_case(req, "10.0.0.3:5060", "203.0.113.5:5060", req);
	via_case(req, "10.0.0.2:506", "203.0.113.5:5060", req);
	via_case("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.2:5060\r\n\r\n", "10.0.0.2:5060",
		 "203.0.113.5:5060", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.2:5060\r\n\r\n");
	via_case("OPTIONS sip:x SIP/2.0\r\n\r\nVia: SIP/2.0/UDP 10.0.0.2:5060\r\n",
		 "10.0.0.2:5060", "203.0.113.5:5060",
		 "OPTIONS sip:x SIP/2.0\r\n\r\nVia: SIP/2.0/UDP 10.0.0.2:5060\r\n");
	via_case("X", "10.0.0.2:5060", "203.0.113.5:5060", "X");
}

/* An encoded SDP as a C string (an mbuf is not NUL-terminated). */
static void sdp_text(const struct mbuf *mb, char *out, size_t sz)
{
	size_t n = mb->end < sz - 1 ? mb->end : sz - 1;

	memcpy(out, mb->buf, n);
	out[n] = '\0';
}

/* Decodes text as the peer's offer (or answer) into s. */
static int sdp_peer(struct call_sdp *s, const char *text, bool offer, struct call_media_params *mp)
{
	struct mbuf *mb = mbuf_alloc(1024);
	int err;

	mbuf_write_str(mb, text);
	mb->pos = 0;
	err = call_sdp_decode(s, mb, offer, mp);
	mem_deref(mb);
	return err;
}

static void test_sdp_codecs(void **state)
{
	/* A softphone's offer: Opus first at pt 96, then G.722, PCMU; an event per clock. */
	static const char offer[] =
		"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 96 9 0 97 98\r\na=rtpmap:96 opus/48000/2\r\n"
		"a=fmtp:96 useinbandfec=1\r\na=rtpmap:9 G722/8000\r\n"
		"a=rtpmap:97 telephone-event/48000\r\na=rtpmap:98 telephone-event/8000\r\n";
	static const char answer_g722[] =
		"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 4002 RTP/AVP 9 101\r\na=rtpmap:101 telephone-event/8000\r\n";
	const enum media_codec wide[3] = {MEDIA_G722, MEDIA_OPUS, MEDIA_PCMU};
	const enum media_codec opus[2] = {MEDIA_OPUS, MEDIA_PCMA};
	const enum media_codec g711[2] = {MEDIA_PCMU, MEDIA_PCMA};
	struct call_media_params mp;
	struct call_sdp s;
	struct mbuf *mb = NULL;
	struct sa laddr;
	char text[2048];

	(void)state;
	sa_set_str(&laddr, "127.0.0.1", 20000);

	/* Our offer lists the codecs in our order, each event clock once. */
	assert_int_equal(call_sdp_init(&s, &laddr, wide, 3, CALL_SRTP_OFF), 0);
	assert_int_equal(call_sdp_encode(&s, true, &mb), 0);
	sdp_text(mb, text, sizeof(text));
	assert_non_null(strstr(text, "m=audio 20000 RTP/AVP 9 111 0 101 102\r\n"));
	assert_non_null(strstr(text, "a=rtpmap:9 G722/8000\r\n"));
	assert_non_null(strstr(text, "a=rtpmap:111 opus/48000/2\r\n"));
	assert_non_null(strstr(text, "a=fmtp:111 maxplaybackrate=8000"));
	assert_non_null(strstr(text, "a=rtpmap:102 telephone-event/48000\r\n"));
	mb = mem_deref(mb);

	/* Answering, our preference wins over the offer's order: G.722, its event at 8 kHz,
	 * and the answer names nothing else. */
	assert_int_equal(sdp_peer(&s, offer, true, &mp), 0);
	assert_int_equal(mp.codec, MEDIA_G722);
	assert_int_equal(mp.pt, 9);
	assert_int_equal(mp.telev_pt, 98);
	assert_int_equal(call_sdp_encode(&s, false, &mb), 0);
	sdp_text(mb, text, sizeof(text));
	assert_non_null(strstr(text, "m=audio 20000 RTP/AVP 9 98\r\n"));
	assert_null(strstr(text, "opus"));
	mb = mem_deref(mb);
	call_sdp_close(&s);

	/* Opus preferred: the offer's dynamic type and the 48 kHz event. */
	assert_int_equal(call_sdp_init(&s, &laddr, opus, 2, CALL_SRTP_OFF), 0);
	assert_int_equal(sdp_peer(&s, offer, true, &mp), 0);
	assert_int_equal(mp.codec, MEDIA_OPUS);
	assert_int_equal(mp.pt, 96);
	assert_int_equal(mp.telev_pt, 97);
	assert_int_equal(call_sdp_encode(&s, false, &mb), 0);
	sdp_text(mb, text, sizeof(text));
	assert_non_null(strstr(text, "m=audio 20000 RTP/AVP 96 97\r\n"));
	mb = mem_deref(mb);
	call_sdp_close(&s);

	/* G.711 only (the default): the same offer settles on PCMU. */
	assert_int_equal(call_sdp_init(&s, &laddr, g711, 2, CALL_SRTP_OFF), 0);
	assert_int_equal(sdp_peer(&s, offer, true, &mp), 0);
	assert_int_equal(mp.codec, MEDIA_PCMU);
	assert_int_equal(mp.telev_pt, 98);
	call_sdp_close(&s);

	/* An answer to our offer: the answerer's choice. */
	assert_int_equal(call_sdp_init(&s, &laddr, opus, 2, CALL_SRTP_OFF), 0);
	assert_int_equal(sdp_peer(&s, answer_g722, false, &mp), EPROTO); /* not offered */
	call_sdp_close(&s);
	assert_int_equal(call_sdp_init(&s, &laddr, wide, 3, CALL_SRTP_OFF), 0);
	assert_int_equal(call_sdp_encode(&s, true, &mb), 0);
	mb = mem_deref(mb);
	assert_int_equal(sdp_peer(&s, answer_g722, false, &mp), 0);
	assert_int_equal(mp.codec, MEDIA_G722);
	assert_int_equal(mp.telev_pt, 101);
	call_sdp_close(&s);
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
		cmocka_unit_test(test_conf_nat),
		cmocka_unit_test(test_via_advertise),
		cmocka_unit_test(test_conf_limits),
		cmocka_unit_test(test_rate_window),
		cmocka_unit_test(test_route_skip),
		cmocka_unit_test(test_route_priority_weight),
		cmocka_unit_test(test_failover_rule),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_conf_100rel),
		cmocka_unit_test(test_conf_early_media),
		cmocka_unit_test(test_heard_end),
		cmocka_unit_test(test_early_prack_checks),
		cmocka_unit_test(test_udp_buffer),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_uri_ok),
		cmocka_unit_test(test_end_status),
		cmocka_unit_test(test_info_dtmf),
		cmocka_unit_test(test_uui),
		cmocka_unit_test(test_sdp),
		cmocka_unit_test(test_sdp_codecs),
		cmocka_unit_test(test_sdp_srtp),
		cmocka_unit_test(test_conf_tls_srtp),
		cmocka_unit_test(test_conf_trunk_codecs),
		cmocka_unit_test(test_conf_trunk_uui),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
