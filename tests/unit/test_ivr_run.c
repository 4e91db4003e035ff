/* Unit tests of the IVR interpreter on the libre loop: every node type with its timeout,
 * invalid and failure branches, the guards, and HTTP nodes against a real HTTP server on
 * loopback. The call is a scripted fake (the interpreter's ops table): prompts "play" for a
 * few milliseconds, keys are typed when the flow listens, timers run 100x faster. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_tmr.h>
#include <re_main.h>
#include "base/base.h"
#include "ivr/ivr.h"
#include "wheel/wheel.h"

/* ---- the scripted call ----------------------------------------------------------- */

struct fake {
	struct ivr_run *run;
	char log[32768];
	size_t len;
	const char *tokens[32];     /* typed one per input wait; "_" = silence */
	size_t n_tokens, next;
	const char *typing;
	struct tmr play_tmr, type_tmr, op_tmr, safety;
	uint32_t play_id;
	int play_err;               /* play returns this */
	bool transfer_ok;
	int transfer_err;           /* transfer returns this */
	int record_err;
	int record_done_err;        /* the recording completes with this error */
	uint8_t *wav;               /* and these bytes (a mem object, the fake's reference) */
	size_t wav_len;
	bool record_stopped;
	bool hang_after_play;       /* the caller hangs up when the first prompt starts */
	int hangups;
	struct ivr_end end;
	char reason[128];
	unsigned keys;
	bool post;
	bool timed_out;
	/* answering-machine detection: on for the call, the verdict (and the beep) delivered
	 * that many ms after the start; 0 ms = never */
	bool amd;
	enum ivr_amd verdict;
	unsigned verdict_ms, beep_ms;
	struct tmr amd_tmr, beep_tmr;
};

static void logf_(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	f->len += (size_t)vsnprintf(f->log + f->len, sizeof(f->log) - f->len, fmt, ap);
	va_end(ap);
	if (f->len < sizeof(f->log) - 1) {
		f->log[f->len++] = '\n';
		f->log[f->len] = '\0';
	}
}

static void play_done(void *arg)
{
	struct fake *f = arg;
	ivr_on_play_done(f->run, f->play_id, false);
}

static void caller_hangs_up(void *arg)
{
	struct fake *f = arg;
	ivr_on_hangup(f->run);
	re_cancel();
}

static int op_play(void *arg, const struct ivr_prompt *p, unsigned loops, bool barge,
		   uint32_t *id)
{
	struct fake *f = arg;

	logf_(f, "play %s x%u%s", p->text ? p->text : p->file, loops, barge ? " barge" : "");
	if (f->play_err)
		return f->play_err;
	*id = ++f->play_id;
	if (f->hang_after_play) {
		tmr_start(&f->op_tmr, 1, caller_hangs_up, f);
		return 0;
	}
	tmr_start(&f->play_tmr, 3 * loops, play_done, f);
	return 0;
}

static void amd_verdict(void *arg)
{
	struct fake *f = arg;

	logf_(f, "verdict %s", ivr_amd_name(f->verdict));
	ivr_on_amd(f->run, f->verdict);
}

static void amd_beep(void *arg)
{
	struct fake *f = arg;

	logf_(f, "beep");
	ivr_on_beep(f->run);
}

static void op_stop(void *arg)
{
	struct fake *f = arg;

	tmr_cancel(&f->play_tmr);
	logf_(f, "stop");
}

static void transfer_done(void *arg)
{
	struct fake *f = arg;

	ivr_on_transfer_result(f->run, f->transfer_ok, f->transfer_ok ? "" : "486 busy");
	if (f->transfer_ok)
		re_cancel();
}

static int op_transfer(void *arg, const struct ivr_transfer *t)
{
	struct fake *f = arg;
	char dests[256] = "";
	size_t n = 0;

	for (size_t i = 0; i < t->n_destinations; i++)
		n += (size_t)snprintf(dests + n, sizeof(dests) - n, " %s", t->destinations[i]);
	logf_(f, "transfer kind=%d number=%s caller=%s group=%llu ring=%u wait=%u hold=%s%s",
	      t->kind, t->number, t->caller, (unsigned long long)t->skill_group_id,
	      t->ring_timeout_s, t->max_wait_s, t->hold && t->hold->text ? t->hold->text : "-",
	      dests);
	if (f->transfer_err)
		return f->transfer_err;
	tmr_start(&f->op_tmr, 2, transfer_done, f);
	return 0;
}

static void record_done(void *arg)
{
	struct fake *f = arg;
	ivr_on_record_done(f->run, f->record_done_err, f->wav, f->wav_len);
}

static int op_record(void *arg, const struct ivr_record *r)
{
	struct fake *f = arg;

	logf_(f, "record max=%u end=%c beep=%d", r->max_len_s, r->end_key ? r->end_key : '-',
	      r->beep);
	return f->record_err;
}

static void op_record_stop(void *arg)
{
	struct fake *f = arg;

	logf_(f, "record_stop");
	f->record_stopped = true;
	tmr_start(&f->op_tmr, 1, record_done, f);
}

static void op_hangup(void *arg, const struct ivr_end *end)
{
	struct fake *f = arg;

	f->hangups++;
	f->end = *end;
	snprintf(f->reason, sizeof(f->reason), "%s", end->reason);
	f->end.reason = f->reason;
	logf_(f, "hangup %d %s %s (%s)", end->end_status, end->end_status_string,
	      end->hungup_side, end->reason);
	re_cancel();
}

static void op_key(void *arg, const struct ivr_key_press *kp)
{
	struct fake *f = arg;

	f->keys++;
	f->post = kp->post;
	logf_(f, "key %s label=%s node=%s orig=%s prompt=%s ts=%lld", kp->key, kp->label,
	      kp->node_label, kp->original, kp->tts_prompt, (long long)kp->ts_ms);
}

static void op_path(void *arg, const char *node, const char *label, const char *result,
		    int64_t ts)
{
	struct fake *f = arg;

	(void)label;
	assert_true(ts > 0);
	logf_(f, "path %s %s", node, result);
}

static void type_keys(void *arg)
{
	struct fake *f = arg;
	const char *t = f->typing;

	f->typing = NULL;
	for (; t && *t && !ivr_run_finished(f->run); t++)
		ivr_on_digit(f->run, *t, 1700000000000LL);
}

static void op_input(void *arg, const char *node)
{
	struct fake *f = arg;
	const char *tok;

	logf_(f, "listen %s", node);
	if (f->next >= f->n_tokens)
		return;
	tok = f->tokens[f->next++];
	if (!strcmp(tok, "_"))
		return;
	f->typing = tok;
	tmr_start(&f->type_tmr, 1, type_keys, f);
}

static const struct ivr_ops ops = {
	.play = op_play, .stop = op_stop, .transfer = op_transfer, .record = op_record,
	.record_stop = op_record_stop, .hangup = op_hangup, .key = op_key, .path = op_path,
	.input = op_input,
};

static void safety(void *arg)
{
	struct fake *f = arg;

	f->timed_out = true;
	re_cancel();
}

static char *q(const char *s)
{
	char *d = strdup(s);
	for (char *p = d; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	return d;
}

static struct ivr_flow *flow_of(const char *src)
{
	char *json = q(src);
	struct ivr_flow *flow = NULL;
	struct ivr_diag *diag = NULL;
	int err = ivr_flow_load(&flow, json, strlen(json), NULL, &diag);

	if (err && diag) {
		for (size_t i = 0; i < diag->n; i++)
			fprintf(stderr, "flow: node '%s' %s: %s\n", diag->v[i].node, diag->v[i].field,
				diag->v[i].msg);
	}
	mem_deref(diag);
	free(json);
	assert_int_equal(err, 0);
	return flow;
}

/* Runs the flow until it ends (hang-up, transfer, caller hang-up) with the keys given as
 * "1,_,123#"; the caller releases f->run. */
static void run_flow(struct fake *f, const char *src, const char *keys, const char *vars)
{
	static char keybuf[256];
	struct ivr_flow *flow = flow_of(src);
	char *vj = vars ? q(vars) : NULL;
	struct ivr_call_info ci = {
		.caller = "008613800000001", .callee = "008613900000002",
		.session_id = "0123456789abcdef0123456789abcdef", .sdkappid = 1400000000,
		.start_ts = 1700000000, .uui = "uui-data", .ring_ts = 1700000003,
		.accept_ts = 1700000010, .variables = vj, .amd = f->amd,
	};
	struct ivr_run_opts ro = {.speed = 100};

	snprintf(keybuf, sizeof(keybuf), "%s", keys ? keys : "");
	for (char *t = strtok(keybuf, ","); t && f->n_tokens < 32; t = strtok(NULL, ","))
		f->tokens[f->n_tokens++] = t;
	assert_int_equal(ivr_run_alloc(&f->run, flow, &ci, &ops, f, &ro), 0);
	mem_deref(flow);   /* the run holds its own reference */
	free(vj);
	tmr_start(&f->safety, 8000, safety, f);
	if (f->verdict_ms)
		tmr_start(&f->amd_tmr, f->verdict_ms, amd_verdict, f);
	if (f->beep_ms)
		tmr_start(&f->beep_tmr, f->beep_ms, amd_beep, f);
	assert_int_equal(ivr_run_start(f->run), 0);
	if (!ivr_run_finished(f->run))
		re_main(NULL);
	tmr_cancel(&f->safety);
	tmr_cancel(&f->play_tmr);
	tmr_cancel(&f->type_tmr);
	tmr_cancel(&f->op_tmr);
	tmr_cancel(&f->amd_tmr);
	tmr_cancel(&f->beep_tmr);
	if (f->timed_out)
		fprintf(stderr, "log so far:\n%s", f->log);
	assert_false(f->timed_out);
	assert_true(ivr_run_finished(f->run));
}

static void done(struct fake *f)
{
	f->run = mem_deref(f->run);
}

/* Each needle appears in the log, in this order. */
static void seq(const struct fake *f, ...)
{
	const char *at = f->log, *needle;
	va_list ap;

	va_start(ap, f);
	while ((needle = va_arg(ap, const char *))) {
		const char *hit = strstr(at, needle);
		if (!hit) {
			fprintf(stderr, "log:\n%s", f->log);
			fail_msg("'%s' not found (in order)", needle);
		}
		at = hit + strlen(needle);
	}
	va_end(ap);
}

static void absent(const struct fake *f, const char *needle)
{
	if (strstr(f->log, needle)) {
		fprintf(stderr, "log:\n%s", f->log);
		fail_msg("'%s' should not be in the log", needle);
	}
}

#define HEAD(type) "{'ivrId':1,'type':'" type "','variables':{'Name':'friend','Order':''," \
	"'Ext':''},'nodes':["
#define START(next) "{'id':'s','type':'start','next':'" next "'},"
#define BYE "{'id':'bye','type':'hangup'}"
#define BYE2 "{'id':'bye2','type':'hangup','params':{'prompt':{'tts':'bye ${Name}'}," \
	"'endStatus':'notWorkTime'}}"
#define MENU(params, exits) "{'id':'m','type':'menu','label':'main menu','params':{'prompt':" \
	"{'tts':'press 1 or 2'},'timeoutPrompt':{'tts':'no key'},'invalidPrompt':{'tts':'bad " \
	"key'},'keys':{'1':{'label':'one','next':'bye'},'2':{'label':'two','next':'bye2'}}" \
	params "}," exits "},"
#define MENU_EXITS "'onTimeout':'to','onInvalid':'inv'"
#define TO_INV "{'id':'to','type':'hangup','params':{'endStatus':'error'}}," \
	"{'id':'inv','type':'hangup','params':{'endStatus':'ivrEnd'}},"

/* ---- start, prompt, variables ---------------------------------------------------- */

static void test_start_and_variables(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("autoOutbound") START("p")
		 "{'id':'p','type':'prompt','params':{'tts':'${Name} ${Order} ${SystemCallerNumber}"
		 " ${SystemCalleeNumber} ${SystemSessionId} ${SystemSdkAppId} ${SystemStartTime} "
		 "${SystemUUI} ${SystemCallRingDuration}.','plays':2,'interruptible':false},"
		 "'next':'bye'}," BYE "]}", NULL,
		 "[{'Key':'Order','Value':'A-7'},{'Key':'Name','Value':'Ann'},"
		 "{'Key':'SystemUUI','Value':'forged'}]");
	seq(&f, "path s next",
	    "play Ann A-7 008613800000001 008613900000002 0123456789abcdef0123456789abcdef "
	    "1400000000 1700000000 uui-data 7. x2",
	    "path p next", "path bye hangup", "hangup 1 ok system (hangup node bye)", NULL);
	assert_int_equal(f.hangups, 1);
	assert_string_equal(ivr_run_var(f.run, "Order"), "A-7");
	assert_string_equal(ivr_run_var(f.run, "Nope"), "");
	{
		char *j = ivr_run_vars_json(f.run);
		assert_non_null(j);
		assert_non_null(strstr(j, "{\"Key\":\"Name\",\"Value\":\"Ann\"}"));
		assert_non_null(strstr(j, "\"SystemUUI\",\"Value\":\"uui-data\""));
		free(j);
	}
	done(&f);
}

static void test_bad_variables(void **state)
{
	struct ivr_flow *flow = flow_of(HEAD("inbound") START("bye") BYE "]}");
	struct ivr_run *run = NULL;
	struct ivr_call_info ci = {.variables = "{\"Key\":1}"};

	(void)state;
	assert_int_equal(ivr_run_alloc(&run, flow, &ci, &ops, NULL, NULL), EINVAL);
	ci.variables = "[{\"Key\":\"a\",\"Value\":2}]";
	assert_int_equal(ivr_run_alloc(&run, flow, &ci, &ops, NULL, NULL), EINVAL);
	ci.variables = "not json";
	assert_int_equal(ivr_run_alloc(&run, flow, &ci, &ops, NULL, NULL), EINVAL);
	assert_null(run);
	mem_deref(flow);
}

static void test_prompt_barge_in_types_ahead(void **state)
{
	struct fake f = {0};

	(void)state;
	/* A key during an interruptible greeting stops it and answers the next menu. */
	{
		/* A prompt node does not "listen" (no input op), so the caller's key is timed:
		 * 1 ms after the greeting starts. */
		struct ivr_flow *flow = flow_of(HEAD("inbound") START("g")
			"{'id':'g','type':'prompt','params':{'tts':'welcome'},'next':'m'},"
			MENU("", MENU_EXITS) TO_INV BYE "," BYE2 "]}");
		struct ivr_run_opts ro = {.speed = 100};

		assert_int_equal(ivr_run_alloc(&f.run, flow, NULL, &ops, &f, &ro), 0);
		mem_deref(flow);
		f.typing = "2";
		f.tokens[0] = f.typing;
		tmr_start(&f.type_tmr, 1, type_keys, &f);
		tmr_start(&f.safety, 8000, safety, &f);
		ivr_run_start(f.run);
		re_main(NULL);
		tmr_cancel(&f.safety);
		tmr_cancel(&f.play_tmr);
		tmr_cancel(&f.op_tmr);
	}
	seq(&f, "play welcome x1 barge", "stop", "path g interrupted",
	    "key 2 label=two node=main menu orig=2 prompt=press 1 or 2", "path m key:2",
	    "play bye friend", "hangup 106 notWorkTime", NULL);
	absent(&f, "play press 1 or 2");   /* the typed-ahead key answered the menu */
	done(&f);
}

static void test_typeahead_into_collect(void **state)
{
	struct fake f = {0};
	struct ivr_flow *flow = flow_of(HEAD("inbound") START("g")
		"{'id':'g','type':'prompt','params':{'tts':'welcome'},'next':'c'},"
		"{'id':'c','type':'collect','params':{'prompt':{'tts':'account?'},'var':'Acct'},"
		"'next':'bye','onFail':'bye'}," BYE "]}");
	struct ivr_run_opts ro = {.speed = 100};

	(void)state;
	assert_int_equal(ivr_run_alloc(&f.run, flow, NULL, &ops, &f, &ro), 0);
	mem_deref(flow);
	f.typing = "42#";
	f.tokens[0] = f.typing;
	tmr_start(&f.type_tmr, 1, type_keys, &f);
	tmr_start(&f.safety, 8000, safety, &f);
	ivr_run_start(f.run);
	re_main(NULL);
	tmr_cancel(&f.safety);
	tmr_cancel(&f.play_tmr);
	seq(&f, "play welcome", "path g interrupted", "key 42 label= node=c orig=42# "
	    "prompt=account?", "path c collected", NULL);
	absent(&f, "play account?");
	assert_string_equal(ivr_run_var(f.run, "Acct"), "42");
	done(&f);
}

static void test_prompt_not_interruptible(void **state)
{
	struct fake f = {0};
	struct ivr_flow *flow = flow_of(HEAD("inbound") START("g")
		"{'id':'g','type':'prompt','params':{'tts':'listen','interruptible':false,"
		"'plays':3},'next':'bye'}," BYE "]}");
	struct ivr_run_opts ro = {.speed = 100};

	(void)state;
	assert_int_equal(ivr_run_alloc(&f.run, flow, NULL, &ops, &f, &ro), 0);
	mem_deref(flow);
	f.typing = "5";
	f.tokens[0] = f.typing;
	tmr_start(&f.type_tmr, 1, type_keys, &f);
	tmr_start(&f.safety, 8000, safety, &f);
	ivr_run_start(f.run);
	re_main(NULL);
	tmr_cancel(&f.safety);
	seq(&f, "play listen x3", "path g next", "hangup 107 ivrEnd", NULL);
	absent(&f, "stop");
	done(&f);
}

static void test_play_failure_goes_on(void **state)
{
	struct fake f = {.play_err = EIO};

	(void)state;
	run_flow(&f, HEAD("inbound") START("g")
		 "{'id':'g','type':'prompt','params':{'tts':'x'},'next':'bye'}," BYE "]}", NULL, NULL);
	seq(&f, "play x", "path g next", "hangup 107", NULL);
	done(&f);
}

/* ---- menus ------------------------------------------------------------------------- */

static void test_menu_key(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("inbound") START("m") MENU("", MENU_EXITS) TO_INV BYE "," BYE2 "]}",
		 "1", NULL);
	seq(&f, "play press 1 or 2 x1 barge", "listen m", "stop",
	    "key 1 label=one node=main menu orig=1 prompt=press 1 or 2 ts=1700000000000",
	    "path m key:1", "hangup 107 ivrEnd", NULL);
	assert_int_equal(f.keys, 1);
	assert_false(f.post);
	done(&f);
}

static void test_menu_invalid_then_valid(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("inbound") START("m") MENU("", MENU_EXITS) TO_INV BYE "," BYE2 "]}",
		 "7,2", NULL);
	seq(&f, "play press 1 or 2", "play bad key", "listen m", "key 2 label=two",
	    "path m key:2", "hangup 106", NULL);
	assert_int_equal(f.keys, 1);   /* the invalid key is not recorded */
	done(&f);
}

static void test_menu_timeout_exhausted(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("inbound") START("m") MENU(",'retries':1", MENU_EXITS) TO_INV BYE ","
		 BYE2 "]}", "_,_,_", NULL);
	seq(&f, "play press 1 or 2", "play no key", "play press 1 or 2", "path m timeout",
	    "path to hangup", "hangup 0 error", NULL);
	assert_int_equal(f.keys, 0);
	done(&f);
}

static void test_menu_invalid_exhausted(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("inbound") START("m") MENU(",'retries':2", MENU_EXITS) TO_INV BYE ","
		 BYE2 "]}", "8,_,9,*", NULL);
	/* 8 invalid, silence on the invalid prompt, then 9 and * invalid: 3 failures > 2 */
	seq(&f, "play bad key", "play press 1 or 2", "path m invalid", "path inv hangup",
	    "hangup 107 ivrEnd", NULL);
	done(&f);
}

static void test_menu_not_interruptible(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("inbound") START("m") MENU(",'interruptible':false", MENU_EXITS)
		 TO_INV BYE "," BYE2 "]}", "1", NULL);
	/* listening starts only after the prompt: no stop, the key still counts */
	seq(&f, "play press 1 or 2 x1\n", "listen m", "key 1", "path m key:1", NULL);
	absent(&f, "stop");
	done(&f);
}

/* ---- collect ----------------------------------------------------------------------- */

#define COLLECT(params) "{'id':'c','type':'collect','label':'account','params':{'prompt':" \
	"{'tts':'enter your account'},'timeoutPrompt':{'tts':'no digits'},'invalidPrompt':" \
	"{'tts':'too short'},'var':'Acct','minLen':3,'maxLen':5" params "},'next':'ok'," \
	"'onFail':'nok'},{'id':'ok','type':'prompt','params':{'tts':'got ${Acct}'},'next':'bye'}," \
	"{'id':'nok','type':'hangup','params':{'endStatus':'error'}},"

static void test_collect_terminator(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("inbound") START("c") COLLECT("") BYE "]}", "123#", NULL);
	seq(&f, "play enter your account", "listen c", "stop",
	    "key 123 label= node=account orig=123# prompt=enter your account",
	    "path c collected", "play got 123", "hangup 107", NULL);
	assert_string_equal(ivr_run_var(f.run, "Acct"), "123");
	done(&f);
}

static void test_collect_max_len(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("inbound") START("c") COLLECT(",'terminator':''") BYE "]}", "1234567",
		 NULL);
	seq(&f, "key 12345 label= node=account orig=12345", "play got 12345", NULL);
	done(&f);
}

static void test_collect_inter_digit_timeout(void **state)
{
	struct fake f = {0};

	(void)state;
	/* 4 digits, no terminator: the inter-digit timeout ends the input */
	run_flow(&f, HEAD("inbound") START("c") COLLECT("") BYE "]}", "4321", NULL);
	seq(&f, "key 4321 label= node=account orig=4321 ", "path c collected", NULL);
	done(&f);
}

static void test_collect_too_short_then_fail(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("inbound") START("c") COLLECT(",'retries':1") BYE "]}", "12#,_,_", NULL);
	seq(&f, "play too short", "play enter your account", "path c fail:timeout",
	    "path nok hangup", "hangup 0 error", NULL);
	assert_int_equal(f.keys, 0);
	assert_string_equal(ivr_run_var(f.run, "Acct"), "");
	done(&f);
}

static void test_collect_first_digit_timeout_retry(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("inbound") START("c") COLLECT("") BYE "]}", "_,_,777#", NULL);
	seq(&f, "play enter your account", "play no digits", "key 777", "path c collected",
	    NULL);
	done(&f);
}

static void test_collect_confirm(void **state)
{
	struct fake f = {0};

	(void)state;
	/* first entry refused with 2 (re-enter), second confirmed with 1 */
	run_flow(&f, HEAD("inbound") START("c") COLLECT(",'confirm':{'prompt':{'tts':"
		 "'you entered ${SystemDigitsSpoken}, press 1 to confirm, 2 to re-enter'}}")
		 BYE "]}", "123#,2,456#,1", NULL);
	seq(&f, "play you entered 1 2 3, press 1", "listen c", "play enter your account",
	    "play you entered 4 5 6, press 1", "key 456 label= node=account orig=456#",
	    "path c collected", "play got 456", NULL);
	assert_int_equal(f.keys, 1);
	done(&f);
}

/* ---- condition, setVar, businessHours ---------------------------------------------- */

static void test_condition_and_setvar(void **state)
{
	struct fake f = {0};

	(void)state;
	/* a counter loop: N goes 1, 2, 3 then the else branch */
	run_flow(&f, HEAD("inbound") START("inc")
		 "{'id':'inc','type':'setVar','params':{'add':{'N':1},'assign':{'Msg':'n=${N}'}},"
		 "'next':'c'},"
		 "{'id':'c','type':'condition','params':{'cases':["
		 "{'if':{'var':'N','op':'lt','value':'3'},'next':'inc'},"
		 "{'if':{'var':'Msg','op':'prefix','value':'n='},'next':'p'}]},'else':'bye'},"
		 "{'id':'p','type':'prompt','params':{'tts':'${Msg} ${N}'},'next':'bye'}," BYE "]}",
		 NULL, NULL);
	seq(&f, "path inc next", "path c case:0", "path inc next", "path c case:0",
	    "path inc next", "path c case:1", "play n=2 3", NULL);
	done(&f);
}

static void test_business_hours(void **state)
{
	struct fake f = {0};
	char json[2048], today[16];
	time_t now = time(NULL);
	struct tm tm;

	(void)state;
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
#define HOURS(extra) HEAD("inbound") START("h") "{'id':'h','type':'businessHours','params':" \
	"{'timeZone':'UTC','windows':[{'days':[1,2,3,4,5,6,7],'start':'00:00','end':'24:00'}]" \
	extra "},'open':'bye','closed':'bye2'}," BYE "," BYE2 "]}"
	run_flow(&f, HOURS(""), NULL, NULL);
	seq(&f, "path h open", "hangup 107", NULL);
	done(&f);

	memset(&f, 0, sizeof(f));
	snprintf(json, sizeof(json), HOURS(",'holidays':['%s']"), today);
	run_flow(&f, json, NULL, NULL);
	seq(&f, "path h closed", "hangup 106 notWorkTime", NULL);
	done(&f);
#undef HOURS

	memset(&f, 0, sizeof(f));
	/* a window on no day today (only the day after tomorrow's weekday) → closed */
	snprintf(json, sizeof(json), HEAD("inbound") START("h") "{'id':'h','type':"
		 "'businessHours','params':{'windows':[{'days':[%d],'start':'00:00','end':'24:00'}]},"
		 "'open':'bye','closed':'bye2'}," BYE "," BYE2 "]}", (tm.tm_wday + 2) % 7 + 1);
	run_flow(&f, json, NULL, NULL);
	seq(&f, "path h closed", NULL);
	done(&f);
}

/* ---- transfers, voicemail, survey -------------------------------------------------- */

static void test_transfer_external(void **state)
{
	struct fake f = {.transfer_ok = true};

	(void)state;
	run_flow(&f, HEAD("inbound") START("t") "{'id':'t','type':'transferExternal','params':"
		 "{'number':'00861${Ext}','callerNumber':'${SystemCalleeNumber}','holdPrompt':"
		 "{'tts':'please hold'},'ringTimeoutS':20},'onFail':'bye'}," BYE "]}", NULL,
		 "[{'Key':'Ext','Value':'2345'}]");
	seq(&f, "transfer kind=1 number=008612345 caller=008613900000002 group=0 ring=20 wait=0 "
	    "hold=please hold", "path t connected", NULL);
	assert_int_equal(f.hangups, 0);   /* connected: the call is not the IVR's any more */
	done(&f);
}

static void test_transfer_fails(void **state)
{
	struct fake f = {.transfer_ok = false};

	(void)state;
	run_flow(&f, HEAD("inbound") START("t") "{'id':'t','type':'transferSkillGroup','params':"
		 "{'skillGroupId':12,'destinations':['sip:1001@127.0.0.1','sip:1002@127.0.0.1'],"
		 "'maxWaitS':60},'onFail':'bye2'}," BYE2 "]}", NULL, NULL);
	seq(&f, "transfer kind=2 number= caller= group=12 ring=30 wait=60 hold=- "
	    "sip:1001@127.0.0.1 sip:1002@127.0.0.1", "path t failed:486 busy", "hangup 106", NULL);
	done(&f);

	memset(&f, 0, sizeof(f));
	f.transfer_err = ENETUNREACH;
	run_flow(&f, HEAD("inbound") START("t") "{'id':'t','type':'transferAgent','params':"
		 "{'agent':'1001'},'onFail':'bye'}," BYE "]}", NULL, NULL);
	seq(&f, "transfer kind=3 number=1001", "path t failed:", "hangup 107", NULL);
	done(&f);
}

static void test_voicemail(void **state)
{
	struct fake f = {0};

	(void)state;
	/* the end key stops the recording */
	run_flow(&f, HEAD("inbound") START("v") "{'id':'v','type':'voicemail','params':{'prompt':"
		 "{'tts':'leave a message'},'maxLenS':30},'next':'bye'}," BYE "]}", NULL, NULL);
	done(&f);
	memset(&f, 0, sizeof(f));
	{
		struct ivr_flow *flow = flow_of(HEAD("inbound") START("v") "{'id':'v','type':"
			"'voicemail','params':{'prompt':{'tts':'leave a message'},'maxLenS':30},"
			"'next':'bye'}," BYE "]}");
		struct ivr_run_opts ro = {.speed = 100};

		assert_int_equal(ivr_run_alloc(&f.run, flow, NULL, &ops, &f, &ro), 0);
		mem_deref(flow);
		f.typing = "5#";
		f.tokens[0] = f.typing;
		tmr_start(&f.type_tmr, 20, type_keys, &f);   /* after the greeting */
		tmr_start(&f.safety, 8000, safety, &f);
		ivr_run_start(f.run);
		re_main(NULL);
		tmr_cancel(&f.safety);
	}
	seq(&f, "play leave a message", "record max=30 end=# beep=1", "record_stop",
	    "path v recorded", "hangup 107", NULL);
	done(&f);
}

static void test_voicemail_max_length_and_error(void **state)
{
	struct fake f = {0};

	(void)state;
	/* no key: the 5 s limit (50 ms at x100) stops it */
	run_flow(&f, HEAD("inbound") START("v") "{'id':'v','type':'voicemail','params':"
		 "{'maxLenS':5,'endKey':'','beep':false},'next':'bye'}," BYE "]}", NULL, NULL);
	seq(&f, "record max=5 end=- beep=0", "record_stop", "path v recorded", NULL);
	done(&f);

	memset(&f, 0, sizeof(f));
	f.record_err = ENOSPC;
	run_flow(&f, HEAD("inbound") START("v") "{'id':'v','type':'voicemail','params':{},"
		 "'next':'bye'}," BYE "]}", NULL, NULL);
	seq(&f, "record max=60", "path v error:", "hangup 107", NULL);
	absent(&f, "record_stop");
	done(&f);
}

static void test_survey(void **state)
{
	struct fake f = {0};

	(void)state;
	run_flow(&f, HEAD("survey") START("q") "{'id':'q','type':'survey','label':'rating',"
		 "'params':{'prompt':{'tts':'rate us 1 to 3'},'keys':{'1':'bad','2':'ok','3':'great'}},"
		 "'next':'bye'}," BYE "]}", "3", NULL);
	seq(&f, "key 3 label=great node=rating orig=3 prompt=rate us 1 to 3", "path q key:3",
	    "hangup 1 ok", NULL);
	assert_true(f.post);
	done(&f);

	memset(&f, 0, sizeof(f));
	run_flow(&f, HEAD("survey") START("q") "{'id':'q','type':'survey','params':{'prompt':"
		 "{'tts':'rate'},'keys':{'1':'bad'},'retries':0}," "'next':'bye'}," BYE "]}", "_",
		 NULL);
	seq(&f, "path q noAnswer:timeout", "hangup 1 ok", NULL);
	assert_int_equal(f.keys, 0);
	done(&f);
}

/* ---- guards and hang-ups ----------------------------------------------------------- */

static void test_guard_visits(void **state)
{
	struct fake f = {0};

	(void)state;
	/* the caller presses 9 ("again") forever: the visit cap ends it */
	run_flow(&f, "{'type':'autoOutbound','limits':{'maxNodeVisits':7},'nodes':[" START("m")
		 "{'id':'m','type':'menu','params':{'prompt':{'tts':'menu'},'keys':{'9':{'next':"
		 "'p'},'1':{'next':'bye'}}},'onTimeout':'bye','onInvalid':'bye'},{'id':'p','type':"
		 "'prompt','params':{'tts':'again'},'next':'m'}," BYE "]}", "9,9,9,9,9,9,9,9,9", NULL);
	seq(&f, "path m key:9", "path p next", "limit:visits",
	    "hangup 1 ok system (node visit limit (7) reached)", NULL);
	done(&f);
}

static void test_guard_duration(void **state)
{
	struct fake f = {0};

	(void)state;
	/* 10 s at x100 = 100 ms; the menu would wait 3 x 30 s */
	run_flow(&f, "{'type':'inbound','limits':{'maxCallDurationS':10},'nodes':[" START("m")
		 "{'id':'m','type':'menu','params':{'prompt':{'tts':'menu'},'timeoutMs':30000,"
		 "'keys':{'1':{'next':'bye'}}},'onTimeout':'bye','onInvalid':'bye'}," BYE "]}", "_,_,_",
		 NULL);
	seq(&f, "path m limit:duration",
	    "hangup 107 ivrEnd system (call duration limit (10 s) reached)", NULL);
	done(&f);
}

static void test_caller_hangs_up(void **state)
{
	struct fake f = {.hang_after_play = true};

	(void)state;
	run_flow(&f, HEAD("inbound") START("m") MENU("", MENU_EXITS) TO_INV BYE "," BYE2 "]}",
		 NULL, NULL);
	seq(&f, "play press 1 or 2", "path m callerHangup", NULL);
	assert_int_equal(f.hangups, 0);
	/* nothing reaches a finished run */
	ivr_on_digit(f.run, '1', 1);
	ivr_on_play_done(f.run, f.play_id, false);
	ivr_on_transfer_result(f.run, true, "");
	ivr_on_record_done(f.run, 0, NULL, 0);
	absent(&f, "key 1");
	done(&f);
}

/* ---- answering-machine detection ------------------------------------------------- */

#define AMD_FLOW(timeout) "{'type':'autoOutbound','nodes':[" START("hi") \
	"{'id':'hi','type':'prompt','params':{'tts':'hi'},'next':'who'},{'id':'who','type':" \
	"'amd','params':{'timeoutMs':" timeout "},'human':'bye','machine':'wb','unsure':" \
	"'unsure'},{'id':'wb','type':'waitBeep','params':{'timeoutMs':5000},'next':'msg'," \
	"'onTimeout':'msg'},{'id':'msg','type':'prompt','params':{'tts':'call us'},'next':" \
	"'bye'},{'id':'unsure','type':'hangup','params':{'endStatus':'error'}}," BYE "]}"

static void test_amd_node(void **state)
{
	struct fake f = {.amd = true, .verdict = IVR_AMD_HUMAN, .verdict_ms = 30};

	(void)state;
	/* the amd node waits for the verdict after the greeting */
	run_flow(&f, AMD_FLOW("5000"), NULL, NULL);
	seq(&f, "path hi next", "verdict human", "path who human", "hangup 1 ok", NULL);
	assert_false(ivr_run_machine(f.run));
	done(&f);

	/* a verdict during the greeting does not interrupt it; the amd node branches at once.
	 * The beep comes while the machine branch waits for it; the call ends as 222. */
	f = (struct fake){.amd = true, .verdict = IVR_AMD_MACHINE, .verdict_ms = 1,
			  .beep_ms = 20};
	run_flow(&f, AMD_FLOW("5000"), NULL, NULL);
	seq(&f, "play hi", "verdict machine", "path hi next", "path who machine", "beep",
	    "path wb beep", "play call us", "path msg next", "hangup 222 voiceMailReached", NULL);
	absent(&f, "stop");
	assert_true(ivr_run_machine(f.run));
	done(&f);

	/* the beep heard before the waitBeep node: it goes on at once */
	f = (struct fake){.amd = true, .verdict = IVR_AMD_MACHINE, .verdict_ms = 1, .beep_ms = 2};
	run_flow(&f, AMD_FLOW("5000"), NULL, NULL);
	seq(&f, "beep", "path who machine", "path wb beep", "hangup 222", NULL);
	done(&f);

	/* no beep: waitBeep's timeout (5 s, 50 ms at x100) */
	f = (struct fake){.amd = true, .verdict = IVR_AMD_MACHINE, .verdict_ms = 1};
	run_flow(&f, AMD_FLOW("5000"), NULL, NULL);
	seq(&f, "path who machine", "path wb timeout", "play call us", "hangup 222", NULL);
	done(&f);

	/* no verdict within the node's timeout: unsure */
	f = (struct fake){.amd = true};
	run_flow(&f, AMD_FLOW("1000"), NULL, NULL);
	seq(&f, "path who unsure:timeout", "hangup 0 error", NULL);
	done(&f);

	/* detection off for the call: unsure at once, and a waitBeep goes to onTimeout */
	f = (struct fake){.verdict = IVR_AMD_MACHINE, .verdict_ms = 1};
	run_flow(&f, AMD_FLOW("5000"), NULL, NULL);
	seq(&f, "path who unsure:off", "hangup 0 error", NULL);
	absent(&f, "path who machine");
	done(&f);
	f = (struct fake){0};
	run_flow(&f, "{'type':'autoOutbound','nodes':[" START("wb") "{'id':'wb','type':'waitBeep',"
		 "'next':'bye','onTimeout':'bye'}," BYE "]}", NULL, NULL);
	seq(&f, "path wb off", "hangup 1 ok", NULL);
	done(&f);
}

#define LONG_FLOW(setting) "{'type':'autoOutbound'" setting ",'nodes':[" START("p") \
	"{'id':'p','type':'prompt','params':{'tts':'long news','plays':10},'next':'bye'}," BYE "]}"

static void test_amd_on_machine(void **state)
{
	struct fake f = {.amd = true, .verdict = IVR_AMD_MACHINE, .verdict_ms = 5};

	(void)state;
	/* no amd node: MACHINE hangs up at once (onMachine's default), the prompt stopped */
	run_flow(&f, LONG_FLOW(""), NULL, NULL);
	seq(&f, "play long news x10", "verdict machine", "stop", "path p amd:machine",
	    "hangup 222 voiceMailReached system (an answering machine answered", NULL);
	assert_true(ivr_run_machine(f.run));
	done(&f);

	/* onMachine continue: the flow goes on as if nothing was heard */
	f = (struct fake){.amd = true, .verdict = IVR_AMD_MACHINE, .verdict_ms = 5};
	run_flow(&f, LONG_FLOW(",'amd':{'enabled':true,'onMachine':'continue'}"), NULL, NULL);
	seq(&f, "verdict machine", "path p next", "hangup 1 ok", NULL);
	absent(&f, "stop");
	assert_false(ivr_run_machine(f.run));
	done(&f);

	/* HUMAN changes nothing; nor does a verdict when detection is off for the call */
	f = (struct fake){.amd = true, .verdict = IVR_AMD_HUMAN, .verdict_ms = 5};
	run_flow(&f, LONG_FLOW(""), NULL, NULL);
	seq(&f, "verdict human", "path p next", "hangup 1 ok", NULL);
	done(&f);
	f = (struct fake){.verdict = IVR_AMD_MACHINE, .verdict_ms = 5};
	run_flow(&f, LONG_FLOW(""), NULL, NULL);
	seq(&f, "verdict machine", "path p next", "hangup 1 ok", NULL);
	done(&f);
}

static void test_run_api_errors(void **state)
{

	struct ivr_flow *flow = flow_of(HEAD("inbound") START("bye") BYE "]}");
	struct ivr_ops partial = ops;
	struct ivr_run *run = NULL;

	(void)state;
	partial.hangup = NULL;
	assert_int_equal(ivr_run_alloc(&run, flow, NULL, &partial, NULL, NULL), EINVAL);
	assert_int_equal(ivr_run_alloc(&run, NULL, NULL, &ops, NULL, NULL), EINVAL);
	assert_int_equal(ivr_run_start(NULL), EINVAL);
	assert_true(ivr_run_finished(NULL));
	mem_deref(flow);
}

/* ---- HTTP against a real server ---------------------------------------------------- */

enum srv_mode { SRV_OK, SRV_500, SRV_SILENT, SRV_NOT_JSON, SRV_SPEECH };

struct srv {
	int fd;
	uint16_t port;
	_Atomic enum srv_mode mode;  /* set by the test, read by the server thread */
	atomic_bool stop;
	pthread_t thread;
	char last_request[4096];
	unsigned requests;
	pthread_mutex_t mu;
};

static struct srv srv;

/* Reads one request (headers + Content-Length body), bounded in size and time. */
static size_t read_request(int c, char *buf, size_t sz)
{
	size_t len = 0;

	while (len < sz - 1) {
		struct pollfd p = {.fd = c, .events = POLLIN};
		ssize_t n;
		char *hdr_end;

		if (poll(&p, 1, 2000) <= 0)
			break;
		n = recv(c, buf + len, sz - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		if (hdr_end) {
			const char *cl = strcasestr(buf, "Content-Length:");
			size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
			if (len >= (size_t)(hdr_end + 4 - buf) + body)
				break;
		}
	}
	return len;
}

static void *srv_main(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		struct pollfd p = {.fd = srv.fd, .events = POLLIN};
		char req[4096], resp[512];
		const char *status = "200 OK", *body = "";
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(srv.fd, NULL, NULL);
		if (c < 0)
			continue;
		read_request(c, req, sizeof(req));
		pthread_mutex_lock(&srv.mu);
		snprintf(srv.last_request, sizeof(srv.last_request), "%s", req);
		srv.requests++;
		pthread_mutex_unlock(&srv.mu);
		switch (srv.mode) {
		case SRV_OK:
			body = "{\"status\":\"shipped\",\"delivery\":{\"date\":\"tomorrow\"},"
			       "\"items\":[{\"n\":3}],\"ok\":true,\"price\":12.5,\"none\":null}";
			break;
		case SRV_500:
			status = "500 Internal Server Error";
			body = "{\"error\":\"boom\"}";
			break;
		case SRV_NOT_JSON:
			body = "<html>hello</html>";
			break;
		case SRV_SPEECH:
			body = "{\"text\":\"my bill\",\"intent\":\"billing\"}";
			break;
		case SRV_SILENT:
			/* hold the connection without answering until the client gives up */
			for (int i = 0; i < 60 && !srv.stop; i++) {
				struct pollfd cp = {.fd = c, .events = POLLIN};
				if (poll(&cp, 1, 50) > 0) {
					char b[64];
					if (recv(c, b, sizeof(b), 0) <= 0)
						break;
				}
			}
			close(c);
			continue;
		}
		snprintf(resp, sizeof(resp), "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status, strlen(body),
			 body);
		if (send(c, resp, strlen(resp), MSG_NOSIGNAL) < 0)
			perror("send");
		close(c);
	}
	return NULL;
}

static int srv_start(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(srv.fd, 16) || getsockname(srv.fd, (struct sockaddr *)&a, &al))
		return -1;
	srv.port = ntohs(a.sin_port);
	pthread_mutex_init(&srv.mu, NULL);
	return pthread_create(&srv.thread, NULL, srv_main, NULL) ? -1 : 0;
}

static void srv_stop(void)
{
	srv.stop = true;
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	pthread_mutex_destroy(&srv.mu);
}

static void http_flow(char *buf, size_t sz, uint16_t port, const char *params, bool on_error)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), HEAD("autoOutbound") START("h")
		 "{'id':'h','type':'http','params':{'url':'http://127.0.0.1:%u/ivr?s=${SystemSessionId}',"
		 "'headers':{'X-Token':'t-${Name}'},'request':{'order':'${Order}','callee':"
		 "'${SystemCalleeNumber}'},'timeoutMs':1000,'outputs':{"
		 "'Status':{'path':'status','default':'unknown'},"
		 "'Date':{'path':'delivery.date','default':'soon'},"
		 "'Count':{'path':'items.0.n','default':'0'},"
		 "'Ok':{'path':'ok'},'Price':{'path':'price'},'Items':{'path':'items'},"
		 "'None':{'path':'none','default':'dflt'},'Missing':{'path':'a.b','default':'m'}}"
		 "%s},'next':'p'%s},"
		 "{'id':'p','type':'prompt','params':{'tts':'${Status} ${Date} ${Count}'},'next':'bye'},"
		 "%s" BYE "]}", port, params, on_error ? ",'onError':'err'" : "",
		 on_error ? "{'id':'err','type':'hangup','params':{'endStatus':'error'}}," : "");
	snprintf(buf, sz, "%s", tmp);
}

static void test_http_success(void **state)
{
	struct fake f = {0};
	char json[4096];

	(void)state;
	srv.mode = SRV_OK;
	http_flow(json, sizeof(json), srv.port, "", false);
	run_flow(&f, json, NULL, "[{'Key':'Order','Value':'A-9'}]");
	seq(&f, "path h ok:200", "play shipped tomorrow 3", "hangup 1 ok", NULL);
	assert_string_equal(ivr_run_var(f.run, "Ok"), "true");
	assert_string_equal(ivr_run_var(f.run, "Price"), "12.5");
	assert_string_equal(ivr_run_var(f.run, "Items"), "[{\"n\":3}]");
	assert_string_equal(ivr_run_var(f.run, "None"), "dflt");
	assert_string_equal(ivr_run_var(f.run, "Missing"), "m");
	assert_string_equal(ivr_run_var(f.run, "SystemHttpStatus"), "200");
	pthread_mutex_lock(&srv.mu);
	assert_non_null(strstr(srv.last_request,
			       "POST /ivr?s=0123456789abcdef0123456789abcdef HTTP/1.1"));
	assert_non_null(strstr(srv.last_request, "X-Token: t-friend"));
	assert_non_null(strstr(srv.last_request, "Content-Type: application/json;charset=utf-8"));
	assert_non_null(strstr(srv.last_request,
			       "{\"order\":\"A-9\",\"callee\":\"008613900000002\"}"));
	pthread_mutex_unlock(&srv.mu);
	done(&f);
}

static void test_http_error_status_retries(void **state)
{
	struct fake f = {0};
	char json[4096];
	unsigned before;

	(void)state;
	srv.mode = SRV_500;
	pthread_mutex_lock(&srv.mu);
	before = srv.requests;
	pthread_mutex_unlock(&srv.mu);
	http_flow(json, sizeof(json), srv.port, ",'maxErrors':3", false);
	run_flow(&f, json, NULL, NULL);
	seq(&f, "path h error:status 500", "play unknown soon 0", NULL);
	pthread_mutex_lock(&srv.mu);
	assert_int_equal(srv.requests - before, 3);   /* maxErrors attempts */
	pthread_mutex_unlock(&srv.mu);
	assert_string_equal(ivr_run_var(f.run, "SystemHttpStatus"), "500");
	done(&f);
}

static void test_http_not_json(void **state)
{
	struct fake f = {0};
	char json[4096];

	(void)state;
	srv.mode = SRV_NOT_JSON;
	http_flow(json, sizeof(json), srv.port, "", false);
	run_flow(&f, json, NULL, NULL);
	seq(&f, "path h error:reply is not JSON", "play unknown soon 0", NULL);
	done(&f);
}

static void test_http_timeout_takes_on_error(void **state)
{
	struct fake f = {0};
	char json[4096];

	(void)state;
	srv.mode = SRV_SILENT;
	/* with onError the failure leaves through it */
	http_flow(json, sizeof(json), srv.port, "", true);
	run_flow(&f, json, NULL, NULL);
	seq(&f, "path h error:", "path err hangup", "hangup 0 error", NULL);
	assert_non_null(strstr(f.log, "imed out"));
	assert_string_equal(ivr_run_var(f.run, "Status"), "unknown");
	done(&f);
}

static void test_http_unreachable(void **state)
{
	struct fake f = {0};
	char json[4096];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	(void)state;
	/* a port that was just free and has no listener */
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	port = ntohs(a.sin_port);
	close(s);
	http_flow(json, sizeof(json), port, ",'maxErrors':2", false);
	run_flow(&f, json, NULL, NULL);
	seq(&f, "path h error:", "play unknown soon 0", NULL);
	assert_string_equal(ivr_run_var(f.run, "SystemHttpStatus"), "0");
	done(&f);
}

static void test_http_stub_and_cancel(void **state)
{
	struct fake f = {0};
	struct ivr_flow *flow;
	struct ivr_run_opts ro = {.speed = 100};
	char json[4096], *qj;

	(void)state;
	http_flow(json, sizeof(json), 1, "", false);
	qj = q(json);
	assert_int_equal(ivr_flow_load(&flow, qj, strlen(qj), NULL, NULL), 0);
	free(qj);
	assert_int_equal(ivr_run_alloc(&f.run, flow, NULL, &ops, &f, &ro), 0);
	mem_deref(flow);
	assert_int_equal(ivr_run_http_stub(f.run, "http://127.0.0.1:1/ivr?s=", 200,
					   "{\"status\":\"stubbed\"}"), 0);
	tmr_start(&f.safety, 8000, safety, &f);
	ivr_run_start(f.run);
	re_main(NULL);
	tmr_cancel(&f.safety);
	tmr_cancel(&f.play_tmr);
	seq(&f, "path h ok:200", "play stubbed soon 0", NULL);
	done(&f);

	/* a run released while its request is under way cancels it cleanly */
	memset(&f, 0, sizeof(f));
	srv.mode = SRV_SILENT;
	http_flow(json, sizeof(json), srv.port, "", false);
	qj = q(json);
	assert_int_equal(ivr_flow_load(&flow, qj, strlen(qj), NULL, NULL), 0);
	free(qj);
	assert_int_equal(ivr_run_alloc(&f.run, flow, NULL, &ops, &f, &ro), 0);
	mem_deref(flow);
	ivr_run_start(f.run);
	tmr_start(&f.safety, 100, safety, &f);
	re_main(NULL);
	assert_false(ivr_run_finished(f.run));
	done(&f);
}

static int setup(void **state)
{
	(void)state;
	if (libre_init())
		return -1;
	return srv_start();
}

static int teardown(void **state)
{
	(void)state;
	srv_stop();
	wheel_close(); /* the wheel the timers made, off the loop before it closes */
	libre_close();
	return 0;
}

/* A speech node whose recogniser is at 127.0.0.1:port, answered by a stub (status, body;
 * status 0 = no stub: the server at the port, or a connection error on port 1). */
#define SPEECH_FLOW HEAD("inbound") START("ask") \
	"{'id':'ask','type':'speech','label':'reason','params':{'prompt':{'tts':'How can we help?'}," \
	"'url':'http://127.0.0.1:%u/asr','maxLenS':1,'intents':{'billing':'bill'}}," \
	"'next':'other','onFail':'sorry'}," \
	"{'id':'bill','type':'hangup','params':{'prompt':{'tts':'billing ${SpeechText}'}}}," \
	"{'id':'other','type':'hangup','params':{'prompt':{'tts':'other [${SpeechIntent}] ${SpeechText}'}}}," \
	"{'id':'sorry','type':'hangup','params':{'prompt':{'tts':'sorry [${SpeechText}]'}}}]}"

static void run_speech(struct fake *f, uint16_t port, int status, const char *body)
{
	struct ivr_run_opts ro = {.speed = 100};
	struct ivr_flow *flow;
	char json[2048];

	snprintf(json, sizeof(json), SPEECH_FLOW, port);
	flow = flow_of(json);

	assert_int_equal(ivr_run_alloc(&f->run, flow, NULL, &ops, f, &ro), 0);
	mem_deref(flow);
	if (status)
		assert_int_equal(ivr_run_http_stub(f->run, "http://127.0.0.1:1/asr", status,
						   body), 0);
	tmr_start(&f->safety, 8000, safety, f);
	assert_int_equal(ivr_run_start(f->run), 0);
	if (!ivr_run_finished(f->run))
		re_main(NULL);
	tmr_cancel(&f->safety);
	tmr_cancel(&f->play_tmr);
	tmr_cancel(&f->op_tmr);
	assert_false(f->timed_out);
	assert_true(ivr_run_finished(f->run));
}

static void test_speech(void **state)
{
	struct fake f = {0};

	(void)state;
	/* an intent with an exit: its branch; the words are the input's OriginalContent */
	run_speech(&f, 1, 200, "{\"text\": \"my bill is wrong\", \"intent\": \"billing\"}");
	seq(&f, "play How can we help?", "record max=1 end=# beep=0", "record_stop",
	    "key billing label=billing node=reason orig=my bill is wrong prompt=How can we help?",
	    "path ask intent:billing", "play billing my bill is wrong", NULL);
	done(&f);

	/* an intent without an exit, and none at all: next */
	memset(&f, 0, sizeof(f));
	run_speech(&f, 1, 200, "{\"text\": \"hello\", \"intent\": \"greeting\"}");
	seq(&f, "path ask recognised:greeting", "play other [greeting] hello", NULL);
	done(&f);
	memset(&f, 0, sizeof(f));
	run_speech(&f, 1, 200, "{\"text\": \"\"}");
	seq(&f, "key  label= node=reason orig= ", "path ask recognised:-", "play other [] ", NULL);
	done(&f);

	/* failures: onFail with the variables empty, and no input recorded */
	memset(&f, 0, sizeof(f));
	run_speech(&f, 1, 503, "busy");
	seq(&f, "path ask error:status 503", "play sorry []", NULL);
	assert_int_equal(f.keys, 0);
	done(&f);
	memset(&f, 0, sizeof(f));
	run_speech(&f, 1, 200, "{\"words\": \"x\"}");
	seq(&f, "path ask error:the reply is not", "play sorry []", NULL);
	done(&f);
	memset(&f, 0, sizeof(f));
	run_speech(&f, 1, 200, "{\"text\": \"x\", \"intent\": 7}");
	seq(&f, "path ask error:the reply is not", NULL);
	done(&f);
	memset(&f, 0, sizeof(f));
	run_speech(&f, 1, 0, NULL);
	seq(&f, "record_stop", "path ask error:", "play sorry []", NULL);
	done(&f);
	memset(&f, 0, sizeof(f));
	f.record_err = ENOSPC;
	run_speech(&f, 1, 200, "{\"text\": \"x\"}");
	seq(&f, "record max=1", "path ask error:", "play sorry []", NULL);
	absent(&f, "record_stop");
	done(&f);
}

/* The answer's bytes, as the recorder hands them over with the completion, are what the
 * recogniser gets (the run reads no file); a recording that failed (not written, or not
 * read back) never reaches the recogniser and leaves by onFail. */
static void test_speech_audio(void **state)
{
	static const char bytes[] = "RIFF-not-quite-a-wav-0123456789";
	uint8_t *wav = mem_alloc(sizeof(bytes) - 1, NULL);
	struct fake f = {.wav = wav, .wav_len = sizeof(bytes) - 1};
	unsigned requests;

	(void)state;
	assert_non_null(wav);
	memcpy(wav, bytes, sizeof(bytes) - 1);
	srv.mode = SRV_SPEECH;
	run_speech(&f, srv.port, 0, NULL);
	seq(&f, "record_stop", "key billing label=billing node=reason orig=my bill",
	    "path ask intent:billing", "play billing my bill", NULL);
	pthread_mutex_lock(&srv.mu);
	assert_non_null(strstr(srv.last_request, "POST /asr HTTP/1.1"));
	assert_non_null(strstr(srv.last_request, "Content-Type: audio/wav"));
	assert_non_null(strstr(srv.last_request, "Content-Length: 31"));
	assert_non_null(strstr(srv.last_request, "\r\n\r\nRIFF-not-quite-a-wav-0123456789"));
	requests = srv.requests;
	pthread_mutex_unlock(&srv.mu);
	done(&f);
	/* The run's reference is gone with it: the fake's is the last. */
	assert_int_equal(mem_nrefs(wav), 1);

	memset(&f, 0, sizeof(f));
	f.record_done_err = EIO;
	run_speech(&f, srv.port, 0, NULL);
	seq(&f, "record_stop", "path ask error:recording: Input/output error", "play sorry []",
	    NULL);
	assert_int_equal(f.keys, 0);
	pthread_mutex_lock(&srv.mu);
	assert_int_equal(srv.requests, requests);
	pthread_mutex_unlock(&srv.mu);
	done(&f);
	mem_deref(wav);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_and_variables),
		cmocka_unit_test(test_bad_variables),
		cmocka_unit_test(test_prompt_barge_in_types_ahead),
		cmocka_unit_test(test_typeahead_into_collect),
		cmocka_unit_test(test_prompt_not_interruptible),
		cmocka_unit_test(test_play_failure_goes_on),
		cmocka_unit_test(test_menu_key),
		cmocka_unit_test(test_menu_invalid_then_valid),
		cmocka_unit_test(test_menu_timeout_exhausted),
		cmocka_unit_test(test_menu_invalid_exhausted),
		cmocka_unit_test(test_menu_not_interruptible),
		cmocka_unit_test(test_collect_terminator),
		cmocka_unit_test(test_collect_max_len),
		cmocka_unit_test(test_collect_inter_digit_timeout),
		cmocka_unit_test(test_collect_too_short_then_fail),
		cmocka_unit_test(test_collect_first_digit_timeout_retry),
		cmocka_unit_test(test_collect_confirm),
		cmocka_unit_test(test_condition_and_setvar),
		cmocka_unit_test(test_business_hours),
		cmocka_unit_test(test_transfer_external),
		cmocka_unit_test(test_transfer_fails),
		cmocka_unit_test(test_voicemail),
		cmocka_unit_test(test_voicemail_max_length_and_error),
		cmocka_unit_test(test_survey),
		cmocka_unit_test(test_guard_visits),
		cmocka_unit_test(test_guard_duration),
		cmocka_unit_test(test_caller_hangs_up),
		cmocka_unit_test(test_amd_node),
		cmocka_unit_test(test_amd_on_machine),
		cmocka_unit_test(test_run_api_errors),
		cmocka_unit_test(test_http_success),
		cmocka_unit_test(test_http_error_status_retries),
		cmocka_unit_test(test_http_not_json),
		cmocka_unit_test(test_http_timeout_takes_on_error),
		cmocka_unit_test(test_http_unreachable),
		cmocka_unit_test(test_http_stub_and_cancel),
		cmocka_unit_test(test_speech),
		cmocka_unit_test(test_speech_audio),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
