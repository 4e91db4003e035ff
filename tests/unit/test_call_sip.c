/* SIP scenarios: the call module on re_main against real sipp peers over loopback
 * (the scenarios in tests/sip). Each case starts one sipp process, places or receives one call, and
 * checks the events (EndStatus, HungUpSide, SIP code, timestamps, keys) and sipp's own
 * verdict. Ports: cccd 15060/15061, sipp 15101-15199, RTP 20000-20999. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <re.h>
#include "base/base.h"
#include "conf/conf.h"
#include "call/call.h"
#include "media/media.h"
#include "wheel/wheel.h"

/* Trunk "answer" rewrites 0086... for sipp on port 15101; callees 9... go to sipp on 15100
 * except those with a trunk of their own (auth 910/911, silent 908, dead 977, refused 978),
 * which the "sipp" trunk follows in their route plans (failover); refused 878 has only its
 * own trunk. */
static const char *conf_text =
	"[sip]\n"
	"listen = 127.0.0.1:15060\n"
	"user_agent = cccd-test\n"
	"ring_timeout = 3\n"
	"ring_timeout_max = 10\n"
	"[media]\n"
	"rtp_ip = 127.0.0.1\n"
	"port_min = 20000\n"
	"port_max = 20999\n"
	"[trunk answer]\n"
	"host = 127.0.0.1\nport = 15101\noptions_interval = 0\n"
	"route = 0086 strip=4 prefix=0\n"
	"[trunk auth]\n"
	"host = 127.0.0.1\nport = 15110\noptions_interval = 0\n"
	"username = alice\npassword = s3cret\nrealm = test.cccd\n"
	"route = 910\n"
	"[trunk authbad]\n"
	"host = 127.0.0.1\nport = 15111\noptions_interval = 0\n"
	"username = alice\npassword = wrong\n"
	"route = 911\n"
	"[trunk dead]\n"
	"host = 127.0.0.1\nport = 15198\ntransport = tcp\noptions_interval = 1\n"
	"route = 977\n"
	"[trunk refused]\n"
	"host = 127.0.0.1\nport = 15197\ntransport = tcp\noptions_interval = 0\n"
	"route = 878\nroute = 978\n"
	"[trunk silent]\n"
	"host = 127.0.0.1\nport = 15108\noptions_interval = 0\n"
	"route = 908\n"
	/* baresip may still be starting when the INVITE leaves (its retransmissions reach it
	 * then): no 100 Trying timeout for it */
	"[trunk baresip]\n"
	"host = 127.0.0.1\nport = 15190\noptions_interval = 0\ntrying_timeout_ms = 0\n"
	"route = 979\n"
	"[trunk strict]\n"
	"host = 127.0.0.1\nport = 15109\noptions_interval = 0\n100rel = required\n"
	"route = 9141\n"
	"[trunk lax]\n"
	"host = 127.0.0.1\nport = 15112\noptions_interval = 0\n100rel = off\n"
	"route = 9142\n"
	"[trunk sipp]\n"
	"host = 127.0.0.1\nport = 15100\noptions_interval = 0\n"
	"route = 9\n";

enum action { ACT_NONE, ACT_HANGUP_ON_RING, ACT_HANGUP_ON_ANSWER };

struct tcase {
	const char *scenario;
	uint16_t port;          /* sipp's port */
	const char *callee;
	const char *uui;
	unsigned max_ring_s;
	enum action action;
	int status;
	enum call_side side;
	uint16_t code;
	bool rang, answered;
	bool early;             /* an 18x with SDP: early media before the answer */
	bool early_rtp;         /* ... and RTP received by the answer */
	const char *keys;
	unsigned talk_ms;       /* ACT_HANGUP_ON_ANSWER: hang up this long after the answer */
	unsigned sipp_calls;    /* calls the sipp peer takes before it exits (0: one) */
};

struct run {
	const struct tcase *tc;
	struct call *call;
	struct tmr tmr_poll, tmr_deadline, tmr_act;
	pid_t pid;
	int sipp_status;
	bool sipp_done, ended, rang_ev, answered_ev, early_ev, timed_out;
	uint32_t rtp_rx_answer; /* RTP packets received when the answer came */
	struct call_event end;
	struct call_times times;
	char keys[16];
	unsigned nkeys;
	uint32_t rtp_rx;        /* RTP packets received when we hung up */
};

static struct call_ua *g_ua;
static struct media *g_media;
static struct call_conf g_cc;
static struct run *g_inbound_run;   /* where inbound calls report */
static char g_root[512] = ".";
static pid_t g_child;               /* baresip while its test runs */
static char home[64];               /* its HOME, removed by teardown */

/* ---- sipp processes ------------------------------------------------------------------ */

/* Waits (at most 5 s) until something listens on UDP 127.0.0.1:port — a sipp peer that
 * has started — so that a loaded machine does not turn a slow start into a lost INVITE. */
static void udp_wait_bound(uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	for (int i = 0; i < 100; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		int taken = fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
			    errno == EADDRINUSE;

		if (fd >= 0)
			close(fd);
		if (taken)
			return;
		usleep(50 * 1000);
	}
}

static pid_t sipp_start_n(const char *scenario, uint16_t port, const char *remote,
			  const char *service, unsigned calls)
{
	char sf[700], portstr[16], log[700], callstr[16];
	const char *argv[32];
	int n = 0;
	pid_t pid;

	snprintf(sf, sizeof(sf), "%s/tests/sip/%s", g_root, scenario);
	snprintf(portstr, sizeof(portstr), "%u", port);
	snprintf(log, sizeof(log), "/tmp/cccd-test-sipp-%u-%d.log", port, (int)getpid());
	argv[n++] = "sipp";
	if (remote)
		argv[n++] = remote;
	argv[n++] = "-sf";
	argv[n++] = sf;
	argv[n++] = "-i";
	argv[n++] = "127.0.0.1";
	argv[n++] = "-p";
	argv[n++] = portstr;
	snprintf(callstr, sizeof(callstr), "%u", calls ? calls : 1);
	argv[n++] = "-m";
	argv[n++] = callstr;
	argv[n++] = "-timeout";
	argv[n++] = "20s";
	argv[n++] = "-timeout_error";
	argv[n++] = "-nostdin";
	argv[n++] = "-trace_err";
	argv[n++] = "-error_file";
	argv[n++] = log;
	argv[n++] = "-mp";
	argv[n++] = "0";
	if (getenv("CCCD_SIPP_TRACE"))
		argv[n++] = "-trace_msg"; /* <scenario>_<pid>_messages.log in the current dir */
	if (service) {
		argv[n++] = "-s";
		argv[n++] = service;
	}
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		setpgid(0, 0);
		execvp("sipp", (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static pid_t sipp_start(const char *scenario, uint16_t port, const char *remote,
			const char *service)
{
	return sipp_start_n(scenario, port, remote, service, 1);
}

static void poll_tmr(void *arg)
{
	struct run *r = arg;
	int st;

	if (!r->sipp_done && r->pid > 0 && waitpid(r->pid, &st, WNOHANG) == r->pid) {
		r->sipp_done = true;
		r->sipp_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	if (r->sipp_done && r->ended) {
		re_cancel();
		return;
	}
	tmr_start(&r->tmr_poll, 20, poll_tmr, r);
}

static void deadline_tmr(void *arg)
{
	struct run *r = arg;

	r->timed_out = true;
	re_cancel();
}

static void act_tmr(void *arg)
{
	struct run *r = arg;
	struct media_stats st;

	media_stream_stats(call_media(r->call), &st);
	r->rtp_rx = st.rtp_received;
	call_hangup(r->call);
}

static void event_h(struct call *c, const struct call_event *ev, void *arg)
{
	struct run *r = arg;

	r->call = c;
	switch (ev->type) {
	case CALL_EV_RINGING:
		r->rang_ev = true;
		if (r->tc && r->tc->action == ACT_HANGUP_ON_RING)
			call_hangup(c);
		break;
	case CALL_EV_EARLY_MEDIA:
		r->early_ev = true;
		break;
	case CALL_EV_ANSWERED:
		r->answered_ev = true;
		if (call_media(c)) {
			struct media_stats st;

			media_stream_stats(call_media(c), &st);
			r->rtp_rx_answer = st.rtp_received;
		}
		if (r->tc && r->tc->action == ACT_HANGUP_ON_ANSWER)
			tmr_start(&r->tmr_act, r->tc->talk_ms ? r->tc->talk_ms : 300, act_tmr, r);
		break;
	case CALL_EV_DTMF:
		if (r->nkeys + 1 < sizeof(r->keys) && ev->source == CALL_DTMF_SIP_INFO)
			r->keys[r->nkeys++] = ev->key;
		break;
	case CALL_EV_MEDIA:
		break;
	case CALL_EV_ENDED:
		r->ended = true;
		r->end = *ev;
		r->times = ev->times;
		break;
	}
}

static void run_loop(struct run *r, unsigned deadline_ms)
{
	tmr_init(&r->tmr_poll);
	tmr_init(&r->tmr_deadline);
	tmr_start(&r->tmr_poll, 20, poll_tmr, r);
	tmr_start(&r->tmr_deadline, deadline_ms, deadline_tmr, r);
	re_main(NULL);
	tmr_cancel(&r->tmr_poll);
	tmr_cancel(&r->tmr_deadline);
	tmr_cancel(&r->tmr_act);
	if (r->timed_out && r->pid > 0 && !r->sipp_done) {
		kill(-r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
}

static void check_times(const struct run *r, bool rang, bool answered)
{
	const struct call_times *t = &r->times;

	assert_true(t->start_ms > 0);
	assert_true(t->end_ms >= t->start_ms);
	if (rang) {
		assert_true(t->ring_ms >= t->start_ms);
		assert_true(t->ring_ms <= t->end_ms);
	}
	else {
		assert_int_equal(t->ring_ms, 0);
	}
	if (answered) {
		assert_true(t->answer_ms >= t->start_ms);
		assert_true(t->answer_ms <= t->end_ms);
		if (rang)
			assert_true(t->answer_ms >= t->ring_ms);
	}
	else {
		assert_int_equal(t->answer_ms, 0);
	}
}

static void outbound_run(const struct tcase *tc, struct call_ua *ua, struct run *rp)
{
	struct run r = {.tc = tc};
	struct call_params p = {.session_id = tc->scenario, .callee = tc->callee,
				.caller = "008675512345678", .uui = tc->uui,
				.max_ring_s = tc->max_ring_s};
	struct call *c = NULL;

	tmr_init(&r.tmr_act);
	r.pid = tc->scenario ? sipp_start_n(tc->scenario, tc->port, NULL, NULL, tc->sipp_calls) :
		-1;
	if (!tc->scenario)
		r.sipp_done = true;
	if (tc->scenario)
		udp_wait_bound(tc->port);
	assert_int_equal(call_originate(&c, ua, &p, event_h, &r), 0);
	r.call = c;
	run_loop(&r, 25000);
	if (r.timed_out)
		print_message("%s: timed out (ended %d, sipp done %d)\n", tc->scenario, r.ended,
			      r.sipp_done);
	assert_false(r.timed_out);
	if (tc->scenario && r.sipp_status)
		print_message("%s: sipp exit %d (see /tmp/cccd-test-sipp-%u-*.log)\n",
			      tc->scenario, r.sipp_status, tc->port);
	assert_int_equal(r.sipp_status, 0);
	assert_true(r.ended);
	assert_int_equal(r.end.end.status, tc->status);
	assert_int_equal(r.end.end.side, tc->side);
	assert_int_equal(r.end.sip_code, tc->code);
	assert_int_equal(r.rang_ev, tc->rang);
	assert_int_equal(r.answered_ev, tc->answered);
	assert_int_equal(r.early_ev, tc->early);
	if (tc->early_rtp)
		assert_true(r.rtp_rx_answer > 0);
	check_times(&r, tc->rang, tc->answered);
	if (tc->keys)
		assert_string_equal(r.keys, tc->keys);
	mem_deref(c);
	if (rp)
		*rp = r;
}

static void outbound(const struct tcase *tc, struct call_ua *ua)
{
	outbound_run(tc, ua, NULL);
}

#define OUT(name, ...) \
	static void name(void **state) { \
		static const struct tcase tc = {__VA_ARGS__}; \
		(void)state; \
		outbound(&tc, g_ua); \
	}

OUT(test_answer_callee_bye, .scenario = "uas_answer_bye.xml", .port = 15101,
    .callee = "008612300000000", .uui = "order-42", .status = 1, .side = CALL_SIDE_USER,
    .code = 200, .rang = true, .answered = true)
OUT(test_answer_info_dtmf, .scenario = "uas_answer_info.xml", .port = 15100,
    .callee = "9020000", .status = 1, .side = CALL_SIDE_USER, .code = 200, .rang = true,
    .answered = true, .keys = "57")
OUT(test_answer_cccd_hangs_up, .scenario = "uas_answer_wait_bye.xml", .port = 15100,
    .callee = "9030000", .action = ACT_HANGUP_ON_ANSWER, .status = 1,
    .side = CALL_SIDE_SYSTEM, .code = 200, .rang = true, .answered = true)
OUT(test_busy, .scenario = "uas_busy.xml", .port = 15100, .callee = "9040000", .status = 206,
    .side = CALL_SIDE_SYSTEM, .code = 486)
OUT(test_decline, .scenario = "uas_decline.xml", .port = 15100, .callee = "9050000",
    .status = 203, .side = CALL_SIDE_SYSTEM, .code = 603)
OUT(test_not_found, .scenario = "uas_notfound.xml", .port = 15100, .callee = "9060000",
    .status = 205, .side = CALL_SIDE_SYSTEM, .code = 404)
OUT(test_no_answer, .scenario = "uas_noanswer.xml", .port = 15100, .callee = "9070000",
    .max_ring_s = 1, .status = 202, .side = CALL_SIDE_SYSTEM, .code = 0, .rang = true)
OUT(test_no_provisional, .scenario = "uas_silent.xml", .port = 15108, .callee = "9080000",
    .max_ring_s = 1, .status = 221, .side = CALL_SIDE_SYSTEM, .code = 0)
OUT(test_trunk_503, .scenario = "uas_503.xml", .port = 15100, .callee = "9090000",
    .status = 208, .side = CALL_SIDE_SYSTEM, .code = 503)
OUT(test_digest_auth, .scenario = "uas_auth.xml", .port = 15110, .callee = "9100000",
    .status = 1, .side = CALL_SIDE_USER, .code = 200, .rang = true, .answered = true)
OUT(test_digest_auth_refused, .scenario = "uas_auth_fail.xml", .port = 15111,
    .callee = "9110000", .status = 208, .side = CALL_SIDE_SYSTEM, .code = 401)
OUT(test_cancel_200_race, .scenario = "uas_race.xml", .port = 15100, .callee = "9120000",
    .action = ACT_HANGUP_ON_RING, .status = 220, .side = CALL_SIDE_SYSTEM, .code = 0,
    .rang = true)
OUT(test_reinvite_hold, .scenario = "uas_reinvite.xml", .port = 15100, .callee = "9130000",
    .status = 1, .side = CALL_SIDE_USER, .code = 200, .rang = true, .answered = true)
OUT(test_transport_error, .scenario = NULL, .callee = "8780000", .status = 208,
    .side = CALL_SIDE_SYSTEM, .code = 0)
/* The refused trunk's TCP connection fails: the call moves to the next trunk of its plan
 * (sipp, busy), whose answer is the outcome. */
OUT(test_failover_transport, .scenario = "uas_busy.xml", .port = 15100, .callee = "9780000",
    .status = 206, .side = CALL_SIDE_SYSTEM, .code = 486)

/* Reliable provisionals: each PRACKed with its RAck (sipp checks), the 200 without SDP
 * after the reliable 183's answer. */
OUT(test_100rel, .scenario = "uas_100rel.xml", .port = 15100, .callee = "9180000",
    .status = 1, .side = CALL_SIDE_USER, .code = 200, .rang = true, .answered = true,
    .early = true)
/* A trunk configured 100rel = required that answers 420: the INVITE again, answered. */
OUT(test_100rel_420, .scenario = "uas_420.xml", .port = 15109, .callee = "9141000",
    .sipp_calls = 2,
    .action = ACT_HANGUP_ON_ANSWER, .status = 1, .side = CALL_SIDE_SYSTEM, .code = 200,
    .rang = true, .answered = true)
/* A trunk configured 100rel = off that answers 421 (it requires 100rel): the INVITE again
 * with Supported: 100rel, answered. */
OUT(test_100rel_421, .scenario = "uas_421.xml", .port = 15112, .callee = "9142000",
    .sipp_calls = 2, .action = ACT_HANGUP_ON_ANSWER, .status = 1, .side = CALL_SIDE_SYSTEM,
    .code = 200, .rang = true, .answered = true)
/* Two forks answer: one call (with A); B's 200 gets ACK and BYE (sipp checks). */
OUT(test_fork_two_200, .scenario = "uas_fork.xml", .port = 15100, .callee = "9150000",
    .status = 1, .side = CALL_SIDE_USER, .code = 200, .rang = true, .answered = true,
    .early = true)
/* 181 and 182 do not ring. */
OUT(test_181_182_no_ring, .scenario = "uas_181.xml", .port = 15100, .callee = "9160000",
    .status = 208, .side = CALL_SIDE_SYSTEM, .code = 503)
/* 183 with SDP and audio before the 200: the stream receives it before the answer. */
OUT(test_early_media, .scenario = "uas_early_media.xml", .port = 15100, .callee = "9170000",
    .status = 1, .side = CALL_SIDE_USER, .code = 200, .rang = true, .answered = true,
    .early = true, .early_rtp = true)

/* ---- RTP timeout: a second user agent whose media gives up after a second of silence - */

static void test_rtp_timeout(void **state)
{
	static const struct tcase tc = {.scenario = "uas_answer_wait_bye.xml", .port = 15100,
		.callee = "9140000", .status = 1, .side = CALL_SIDE_SYSTEM, .code = 200,
		.rang = true, .answered = true};
	struct media_conf mc = {0};
	struct call_conf cc = g_cc;
	struct media *m = NULL;
	struct call_ua *ua = NULL;

	(void)state;
	snprintf(mc.rtp_ip, sizeof(mc.rtp_ip), "127.0.0.1");
	mc.port_min = 20500;
	mc.port_max = 20999;
	mc.workers = 1;
	mc.rtp_timeout_ms = 1000;
	mc.prompt_cache_bytes = 1 << 20;
	snprintf(mc.recording_dir, sizeof(mc.recording_dir), "/tmp");
	assert_int_equal(media_alloc(&m, &mc), 0);
	cc.listen[0].port = 15061;
	assert_int_equal(call_ua_alloc(&ua, &cc, m, NULL, NULL), 0);
	outbound(&tc, ua);
	mem_deref(ua);
	mem_deref(m);
}

/* ---- interop: baresip answers automatically --------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_baresip_interop(void **state)
{
	static const struct tcase tc = {.scenario = NULL, .callee = "9790000",
		.max_ring_s = 8, .action = ACT_HANGUP_ON_ANSWER, .talk_ms = 1500, .status = 1,
		.side = CALL_SIDE_SYSTEM, .code = 200, .rang = true, .answered = true};
	char dir[600], cmd[1400];
	struct run r;
	pid_t pid;

	(void)state;
	snprintf(home, sizeof(home), "/tmp/cccd-test-baresip-XXXXXX");
	assert_non_null(mkdtemp(home));
	snprintf(dir, sizeof(dir), "%s/.baresip", home);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(dir, "config",
		   "sip_listen 127.0.0.1:15190\n"
		   /* its local address: from the default route otherwise, which a network
		    * namespace with only lo has not (baresip then sends no usable SDP) */
		   "net_interface 127.0.0.1\n"
		   "audio_player aubridge,nil\naudio_alert aubridge,nil\n"
		   "module_path /usr/lib/baresip/modules\n"
		   "module g711.so\nmodule aufile.so\nmodule aubridge.so\n"
		   "module_app account.so\nmodule_app menu.so\n"
		   "rtp_ports 20900-20999\n");
	/* the tone baresip sends: an 8 kHz WAV made by sox */
	snprintf(cmd, sizeof(cmd), "sox -n -r 8000 -c 1 -b 16 '%s/tone.wav' synth 5 sine 440 && "
		 "echo 'audio_source aufile,%s/tone.wav' >> '%s/config'", home, home, dir);
	assert_int_equal(system(cmd), 0);
	write_file(dir, "accounts", "<sip:9790000@127.0.0.1:15190>;regint=0;answermode=auto\n");
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("HOME", home, 1);
		execlp("baresip", "baresip", "-f", dir, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	g_child = pid; /* killed by teardown if an assertion ends this test early */
	usleep(2000 * 1000); /* baresip loads its accounts after it listens: a 404 before */
	outbound_run(&tc, g_ua, &r);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	g_child = 0;
	/* baresip's tone reached our media stream */
	assert_true(r.rtp_rx > 10);
}

/* ---- routing and health -------------------------------------------------------------- */

static void test_route_health(void **state)
{
	struct run r = {0};
	struct call *c = NULL;
	struct call_params p = {.callee = "9770000", .caller = "123"};

	(void)state;
	/* the dead trunk's OPTIONS over TCP are refused at once: it goes down */
	r.sipp_done = true;
	r.ended = false;
	tmr_init(&r.tmr_act);
	for (int i = 0; i < 100 && call_trunk_state(g_ua, 3) != 0; i++) {
		r.timed_out = false;
		tmr_init(&r.tmr_deadline);
		tmr_start(&r.tmr_deadline, 50, deadline_tmr, &r);
		re_main(NULL);
	}
	assert_int_equal(call_trunk_state(g_ua, 3), 0);
	/* 977 matches the dead trunk first, then the catch-all "9" trunk */
	assert_true(call_route_ok(g_ua, "9770000"));
	assert_true(call_route_ok(g_ua, "008612300000000"));
	assert_false(call_route_ok(g_ua, "12345"));
	assert_false(call_route_ok(g_ua, "12a45"));
	assert_int_equal(call_originate(&c, g_ua, &p, event_h, &r), 0);
	call_hangup(c);
	call_hangup(c);
	r.sipp_done = true;
	run_loop(&r, 5000);
	assert_true(r.ended);
	assert_int_equal(r.end.end.status, 221);
	assert_int_equal(r.end.end.side, CALL_SIDE_SYSTEM);
	mem_deref(c);
	p.callee = "55555";
	assert_int_equal(call_originate(&c, g_ua, &p, event_h, &r), ENOENT);
	p.callee = "9<sip:x>";
	assert_int_equal(call_originate(&c, g_ua, &p, event_h, &r), EINVAL);
	p.callee = "9770000";
	p.caller = "12 3";
	assert_int_equal(call_originate(&c, g_ua, &p, event_h, &r), EINVAL);
}

/* ---- inbound ------------------------------------------------------------------------- */

static char g_in_callee[40], g_in_caller[40], g_in_uui[40];

static int incoming_h(struct call *c, const struct call_incoming *in, call_event_h **ehp,
		      void **argp, void *arg)
{
	(void)arg;
	snprintf(g_in_callee, sizeof(g_in_callee), "%s", in->callee);
	snprintf(g_in_caller, sizeof(g_in_caller), "%s", in->caller);
	snprintf(g_in_uui, sizeof(g_in_uui), "%s", in->uui);
	if (strcmp(in->callee, "8001") || !g_inbound_run)
		return ENOENT;
	*ehp = event_h;
	*argp = g_inbound_run;
	g_inbound_run->call = c;
	return call_answer(c);
}

static void inbound(const char *scenario, uint16_t port, const char *service, bool call)
{
	struct run r = {0};

	tmr_init(&r.tmr_act);
	g_inbound_run = &r;
	r.pid = sipp_start(scenario, port, "127.0.0.1:15060", service);
	r.ended = !call;
	run_loop(&r, 25000);
	g_inbound_run = NULL;
	assert_false(r.timed_out);
	if (r.sipp_status)
		print_message("%s: sipp exit %d\n", scenario, r.sipp_status);
	assert_int_equal(r.sipp_status, 0);
	if (call) {
		assert_true(r.answered_ev);
		assert_int_equal(r.end.end.status, 1);
		assert_int_equal(r.end.end.side, CALL_SIDE_USER);
		check_times(&r, false, true);
		assert_true(call_is_inbound(r.call));
		mem_deref(r.call);
	}
}

static void test_inbound_known(void **state)
{
	(void)state;
	inbound("uac_inbound.xml", 15150, "8001", true);
	assert_string_equal(g_in_callee, "8001");
	assert_string_equal(g_in_caller, "008613800000000");
	assert_string_equal(g_in_uui, "hello");
}

static void test_inbound_unknown(void **state)
{
	(void)state;
	inbound("uac_unknown.xml", 15151, "9999", false);
	assert_string_equal(g_in_callee, "9999");
}

static void test_options(void **state)
{
	(void)state;
	inbound("uac_options.xml", 15152, NULL, false);
}

/* Raw garbage on the SIP port first, then sipp's malformed requests and a final OPTIONS. */
static void test_malformed(void **state)
{
	static const char *junk[] = {
		"", "\r\n\r\n", "INVITE", "SIP/2.0 200 OK\r\n\r\n",
		"INVITE sip:8001@127.0.0.1 SIP/2.0\r\nVia: x\r\n\r\n",
		"INVITE sip:8001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKq\r\n"
		"From: <sip:a>;tag=1\r\nCall-ID: q\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		"BYE sip:x SIP/2.0\r\nContent-Length: -5\r\n\r\n",
		"\x00\x01\x02\x03\xff\xfe garbage",
		"OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\n"
		"From: <sip:a>;tag=1\r\nTo: <sip:b>\r\nCall-ID: j\r\nCSeq: 99999999999999 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n",
	};
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(15060)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		(void)sendto(fd, junk[i], strlen(junk[i]) + (i == 7 ? 4 : 0), 0,
			     (struct sockaddr *)&dst, sizeof(dst));
	close(fd);
	inbound("uac_malformed.xml", 15153, NULL, false);
}

/* ---- setup ------------------------------------------------------------------------------ */

static int setup(void **state)
{
	struct conf *cf = NULL;
	struct conf_err err = {0};
	struct media_conf mc;
	const char *root = getenv("CCCD_ROOT");

	(void)state;
	if (root)
		snprintf(g_root, sizeof(g_root), "%s", root);
	signal(SIGPIPE, SIG_IGN);
	if (libre_init())
		return -1;
	log_set_level(getenv("CCCD_TEST_DEBUG") ? LOG_DEBUG : LOG_WARN);
	if (conf_parse(&cf, conf_text, strlen(conf_text), &err) ||
	    call_conf_read(cf, &g_cc, &err) || media_conf_read(cf, &mc, &err)) {
		print_message("config: line %u: %s\n", err.line, err.msg);
		return -1;
	}
	mc.rtp_timeout_ms = 0;
	mc.workers = 1;
	snprintf(mc.recording_dir, sizeof(mc.recording_dir), "/tmp");
	mem_deref(cf);
	if (media_alloc(&g_media, &mc))
		return -1;
	return call_ua_alloc(&g_ua, &g_cc, g_media, incoming_h, NULL) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (g_child > 0) {
		kill(g_child, SIGTERM);
		waitpid(g_child, NULL, 0);
	}
	if (home[0]) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
		if (system(cmd))
			print_message("could not remove %s\n", home);
	}
	g_ua = mem_deref(g_ua);
	g_media = mem_deref(g_media);
	tmr_debug();
	wheel_close(); /* the wheel the timers made, off the loop before it closes */
	libre_close();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_callee_bye),
		cmocka_unit_test(test_answer_info_dtmf),
		cmocka_unit_test(test_answer_cccd_hangs_up),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_decline),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_no_answer),
		cmocka_unit_test(test_no_provisional),
		cmocka_unit_test(test_trunk_503),
		cmocka_unit_test(test_failover_transport),
		cmocka_unit_test(test_100rel),
		cmocka_unit_test(test_100rel_420),
		cmocka_unit_test(test_100rel_421),
		cmocka_unit_test(test_fork_two_200),
		cmocka_unit_test(test_181_182_no_ring),
		cmocka_unit_test(test_early_media),
		cmocka_unit_test(test_digest_auth),
		cmocka_unit_test(test_digest_auth_refused),
		cmocka_unit_test(test_cancel_200_race),
		cmocka_unit_test(test_reinvite_hold),
		cmocka_unit_test(test_transport_error),
		cmocka_unit_test(test_rtp_timeout),
		cmocka_unit_test(test_baresip_interop),
		cmocka_unit_test(test_route_health),
		cmocka_unit_test(test_inbound_known),
		cmocka_unit_test(test_inbound_unknown),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
