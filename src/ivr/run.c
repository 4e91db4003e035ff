/* ivr interpreter: runs one flow for one call on the control loop, event by event. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_tmr.h>
#include <re_main.h>
#include "asr/asr.h"
#include "base/base.h"
#include "ivr/ivr_int.h"
#include "wheel/wheel.h"

#define TYPEAHEAD_MAX 32

/* What the run is waiting for. Instant nodes (start, setVar, condition, businessHours)
 * never wait: they are walked through in one step. */
enum phase {
	PH_IDLE = 0,
	PH_PROMPT,           /* a prompt node plays */
	PH_ASK_PROMPT,       /* an input node's prompt plays */
	PH_ASK_RETRY,        /* its timeout / invalid prompt plays */
	PH_ASK_WAIT,         /* waiting for a key (a timer runs) */
	PH_CONFIRM_PROMPT,   /* collect: "you entered …" plays */
	PH_CONFIRM_WAIT,
	PH_HTTP,
	PH_TRANSFER,
	PH_RECORD_PROMPT,
	PH_RECORDING,
	PH_RECORD_STOPPING,
	PH_HANGUP_PROMPT,
	PH_AMD_WAIT,         /* an amd node waits for the verdict (a timer runs) */
	PH_BEEP_WAIT,        /* a waitBeep node waits for the beep (a timer runs) */
	PH_DONE,
};

enum fail_kind { FAIL_TIMEOUT, FAIL_INVALID, FAIL_REENTER };

/* An HTTP reply given in advance (the simulator's --http-stub). Owner: the run. */
struct stub {
	struct le le;
	char *url;
	int status;
	char *body;
};

/* Owner: the session glue (or the simulator / a test) that allocated it. */
struct ivr_run {
	char sid[LOG_SESSION_ID_SIZE]; /* SystemSessionId, for the log (run_enter) */
	struct ivr_flow *flow;       /* reference */
	const struct ivr_ops *ops;
	void *arg;
	json_t *vars;                /* name → string value */
	int64_t accept_ts;
	unsigned speed;

	int cur;                     /* current node, -1 before start */
	enum phase phase;
	unsigned visits;
	unsigned tries;              /* failed attempts in the current input node */
	bool finished;

	/* answering-machine detection (docs/flows.md §Answering-machine detection) */
	bool amd_on;                 /* it runs on this call: a verdict will come */
	enum ivr_amd verdict;        /* IVR_AMD_PENDING until it comes */
	bool beep;                   /* the machine's beep was heard */
	bool machine;                /* a machine branch was taken: the call ends as 222 */

	struct wheel_tmr tmr;        /* input timeouts, recording length */
	struct wheel_tmr guard;      /* the call duration cap */
	struct tmr async;            /* a step deferred to the loop's next turn (libre: a
				      * zero delay is cheap there, wheel.c) */
	enum { ASYNC_NONE, ASYNC_PLAY_DONE, ASYNC_STUB } async_kind;

	uint32_t play_id;
	bool playing;

	char digits[33];             /* collect: digits so far */
	size_t n_digits;
	char raw[40];                /* collect: every key, terminator included */
	size_t n_raw;
	int64_t last_key_ts;
	char typeahead[TYPEAHEAD_MAX + 1]; /* keys that interrupted a prompt node */
	size_t n_typeahead;
	char *prompt_text;           /* the current input node's rendered prompt (TTSPrompt) */
	char numbuf[32];

	struct ivr_http_client *hc;
	struct ivr_http_req *req;
	unsigned http_attempt;
	char *http_url, *http_body;
	size_t http_body_len;        /* speech: the WAV's length (http nodes send text) */
	char **http_headers;         /* mem array of mem strings */
	size_t n_http_headers;
	struct list stubs;
	const struct stub *stub;     /* the reply ASYNC_STUB delivers */

	struct asr *asr;             /* the local recogniser's pool (not owned); NULL = none */
	struct asr_job *asr_job;     /* a local speech node's answer being recognised */
};

static void goto_node(struct ivr_run *run, int idx);
static void ask_start(struct ivr_run *run);
static void node_play_done(struct ivr_run *run);
static void collect_done(struct ivr_run *run);
static void stub_deliver(struct ivr_run *run);

static struct node *cur_node(const struct ivr_run *run)
{
	return &run->flow->nodes[run->cur];
}

static int edge_to(const struct node *n, int kind, int index)
{
	for (size_t i = 0; i < n->n_edges; i++) {
		if ((int)n->edges[i].kind == kind && (kind != EDGE_KEY || n->edges[i].index == index))
			return n->edges[i].to;
	}
	return -1;
}

static uint64_t ms_scaled(const struct ivr_run *run, uint64_t ms)
{
	uint64_t v = run->speed > 1 ? ms / run->speed : ms;
	return v ? v : 1;
}

static void path(struct ivr_run *run, const char *result)
{
	const struct node *n;

	if (run->cur < 0 || !run->ops->path)
		return;
	n = cur_node(run);
	run->ops->path(run->arg, n->id, n->label, result, clock_unix_ms());
}

/* ---- variables ------------------------------------------------------------------- */

static const char *lookup(const char *name, void *arg)
{
	struct ivr_run *run = arg;
	const char *v;

	if (!strcmp(name, "SystemCallAcceptDuration")) {
		int64_t d = run->accept_ts ? clock_unix_s() - run->accept_ts : 0;
		snprintf(run->numbuf, sizeof(run->numbuf), "%" PRId64, d > 0 ? d : 0);
		return run->numbuf;
	}
	v = json_string_value(json_object_get(run->vars, name));
	return v ? v : "";
}

static void var_set(struct ivr_run *run, const char *name, const char *value)
{
	if (json_object_set_new(run->vars, name, json_string(value ? value : "")))
		log_warn("ivr", "cannot set variable %s (out of memory)", name);
}

static char *render(struct ivr_run *run, const char *t)
{
	char *out = NULL;

	if (tmpl_render(&out, t, lookup, run))
		log_warn("ivr", "node %s: out of memory rendering a template", cur_node(run)->id);
	return out;
}

const char *ivr_run_var(struct ivr_run *run, const char *name)
{
	if (!run || !name)
		return "";
	return lookup(name, run);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *ivr_run_vars_json(const struct ivr_run *run)
{
	size_t n = json_object_size(run->vars), i = 0;
	const char **names = calloc(n + 1, sizeof(*names));
	json_t *arr = json_array(), *v;
	const char *k;
	char *out = NULL;

	if (!names || !arr)
		goto out;
	json_object_foreach(run->vars, k, v)
		names[i++] = k;
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s,s:s}", "Key", names[i], "Value",
				      lookup(names[i], (struct ivr_run *)run));
		if (!o || json_array_append_new(arr, o))
			goto out;
	}
	out = json_dumps(arr, JSON_COMPACT);
 out:
	free(names);
	json_decref(arr);
	return out;
}

/* ---- ending ----------------------------------------------------------------------- */

static void cancel_all(struct ivr_run *run)
{
	wheel_cancel(&run->tmr);
	wheel_cancel(&run->guard);
	tmr_cancel(&run->async);
	run->async_kind = ASYNC_NONE;
	run->req = mem_deref(run->req);
	run->playing = false;
	asr_cancel(run->asr_job);
	run->asr_job = NULL;
}

static void default_end(const struct ivr_run *run, int *status, const char **name)
{
	if (run->machine) {
		*status = 222;
		*name = "voiceMailReached";
	}
	else if (run->flow->type == IVR_FLOW_INBOUND) {
		*status = 107;
		*name = "ivrEnd";
	}
	else {
		*status = 1;
		*name = "ok";
	}
}

static void hang_up(struct ivr_run *run, int status, const char *status_name, const char *why)
{
	struct ivr_end end = {.end_status = status, .end_status_string = status_name,
			      .hungup_side = "system", .reason = why};

	cancel_all(run);
	run->phase = PH_DONE;
	run->finished = true;
	run->ops->hangup(run->arg, &end);
}

/* A guard tripped (visits, duration) or the flow cannot go on: hang up as the system. */
static void hang_up_system(struct ivr_run *run, const char *result, const char *why)
{
	int status;
	const char *name;

	if (run->playing)
		run->ops->stop(run->arg);
	if (run->phase == PH_RECORDING)
		run->ops->record_stop(run->arg);
	log_info("ivr", "flow %" PRIu64 ": %s", run->flow->ivr_id, why);
	path(run, result);
	default_end(run, &status, &name);
	hang_up(run, status, name, why);
}

/* A libre callback (a timer, an HTTP answer) enters the run: what is logged until
 * run_leave names the run's session (base.h, Logging); the reference keeps the run alive
 * through a hang-up inside. */
static struct ivr_run *run_enter(void *arg, char prev[LOG_SESSION_ID_SIZE])
{
	struct ivr_run *run = mem_ref(arg);

	log_context_session(run->sid, prev);
	return run;
}

static void run_leave(struct ivr_run *run, const char prev[LOG_SESSION_ID_SIZE])
{
	log_context_session(prev, NULL);
	mem_deref(run);
}

static void guard_expired(void *arg)
{
	char prev[LOG_SESSION_ID_SIZE], why[80];
	struct ivr_run *run = run_enter(arg, prev);

	snprintf(why, sizeof(why), "call duration limit (%u s) reached",
		 run->flow->max_duration_s);
	hang_up_system(run, "limit:duration", why);
	run_leave(run, prev);
}

/* ---- prompts ---------------------------------------------------------------------- */

static void async_handler(void *arg)
{
	char prev[LOG_SESSION_ID_SIZE];
	struct ivr_run *run = run_enter(arg, prev);
	int kind = run->async_kind;

	run->async_kind = ASYNC_NONE;
	if (kind == ASYNC_PLAY_DONE)
		node_play_done(run);
	else if (kind == ASYNC_STUB)
		stub_deliver(run);
	run_leave(run, prev);
}

static void defer(struct ivr_run *run, int kind)
{
	run->async_kind = kind;
	tmr_start(&run->async, 0, async_handler, run);
}

/* Plays `pd` and enters `ph`; its end comes to node_play_done(). A prompt that cannot be
 * played is logged and counts as played: the caller hears nothing but the flow goes on. */
static void play(struct ivr_run *run, const struct prompt_def *pd, unsigned loops, bool barge,
		 enum phase ph, bool main_prompt)
{
	struct ivr_prompt p = {.file = pd->file, .lang = pd->lang ? pd->lang : run->flow->lang};
	char *text = NULL;
	int err;

	run->phase = ph;
	if (pd->tts) {
		text = render(run, pd->tts);
		p.text = text ? text : "";
		p.file = NULL;
	}
	if (main_prompt) {
		mem_deref(run->prompt_text);
		run->prompt_text = NULL;
		if (text)
			run->prompt_text = mem_ref(text);
		else if (pd->file)
			str_dup(&run->prompt_text, pd->file);
	}
	err = run->ops->play(run->arg, &p, loops ? loops : 1, barge, &run->play_id);
	mem_deref(text);
	if (err) {
		log_warn("ivr", "node %s: prompt not played: %s", cur_node(run)->id, strerror(err));
		run->playing = false;
		defer(run, ASYNC_PLAY_DONE);
		return;
	}
	run->playing = true;
}

/* The current prompt is no longer wanted: stop it, or forget its deferred end. */
static void stop_play(struct ivr_run *run)
{
	if (run->async_kind == ASYNC_PLAY_DONE) {
		tmr_cancel(&run->async);
		run->async_kind = ASYNC_NONE;
	}
	if (!run->playing)
		return;
	run->playing = false;
	run->ops->stop(run->arg);
}

static void input_open(struct ivr_run *run)
{
	if (run->ops->input)
		run->ops->input(run->arg, cur_node(run)->id);
}

/* ---- input nodes (menu, survey, collect) ------------------------------------------ */

static void start_wait(struct ivr_run *run, unsigned ms, tmr_h *h)
{
	run->phase = run->phase == PH_CONFIRM_PROMPT || run->phase == PH_CONFIRM_WAIT ?
		     PH_CONFIRM_WAIT : PH_ASK_WAIT;
	wheel_start(&run->tmr, ms_scaled(run, ms), h, run);
}

static void accept_input(struct ivr_run *run, const char *key, const char *label,
			 const char *original)
{
	const struct node *n = cur_node(run);
	struct ivr_key_press kp = {
		.key = key, .label = label ? label : "", .ts_ms = run->last_key_ts,
		.node_label = n->label, .original = original,
		.tts_prompt = run->prompt_text ? run->prompt_text : "",
		.post = run->flow->type == IVR_FLOW_SURVEY,
	};

	if (run->ops->key)
		run->ops->key(run->arg, &kp);
}

static void fail(struct ivr_run *run, enum fail_kind kind)
{
	const struct node *n = cur_node(run);
	const struct prompt_def *retry;
	const char *what = kind == FAIL_TIMEOUT ? "timeout" : kind == FAIL_INVALID ? "invalid" :
			   "reenter";
	char res[32];

	wheel_cancel(&run->tmr);
	stop_play(run);
	if (++run->tries <= n->retries) {
		retry = kind == FAIL_TIMEOUT ? &n->timeout_prompt :
			kind == FAIL_INVALID ? &n->invalid_prompt : NULL;
		if (retry && retry->set) {
			play(run, retry, 1, n->interruptible, PH_ASK_RETRY, false);
			if (n->interruptible)
				input_open(run);
		}
		else {
			ask_start(run);
		}
		return;
	}
	switch (n->type) {
	case NODE_MENU:
		path(run, what);
		goto_node(run, edge_to(n, kind == FAIL_TIMEOUT ? EDGE_TIMEOUT : EDGE_INVALID, 0));
		break;
	case NODE_SURVEY:
		snprintf(res, sizeof(res), "noAnswer:%s", what);
		path(run, res);
		goto_node(run, edge_to(n, EDGE_NEXT, 0));
		break;
	default:
		snprintf(res, sizeof(res), "fail:%s", what);
		var_set(run, n->var, "");
		path(run, res);
		goto_node(run, edge_to(n, EDGE_FAIL, 0));
		break;
	}
}

static void wait_expired(void *arg)
{
	char prev[LOG_SESSION_ID_SIZE];
	struct ivr_run *run = run_enter(arg, prev);
	const struct node *n = cur_node(run);

	/* Collect: silence after some digits ends the input (no terminator needed). */
	if (run->phase == PH_ASK_WAIT && n->type == NODE_COLLECT && run->n_digits)
		collect_done(run);
	else
		fail(run, FAIL_TIMEOUT);
	run_leave(run, prev);
}

static void handle_key(struct ivr_run *run, char key);

/* One attempt of an input node: the prompt (unless keys typed ahead answer it already),
 * then the wait. `tries` is kept across attempts. */
static void ask_start(struct ivr_run *run)
{
	const struct node *n = cur_node(run);

	run->n_digits = 0;
	run->n_raw = 0;
	run->digits[0] = run->raw[0] = '\0';
	if (run->n_typeahead) {
		int node = run->cur;

		/* Keys typed ahead answer this attempt without its prompt; they go in while
		 * the node still waits for more (collect), the rest to the next input node. */
		if (!run->prompt_text && n->prompt.tts)
			run->prompt_text = render(run, n->prompt.tts);
		run->phase = PH_ASK_WAIT;
		while (run->n_typeahead && !run->finished && run->cur == node &&
		       (run->phase == PH_ASK_WAIT || run->phase == PH_CONFIRM_WAIT)) {
			char key = run->typeahead[0];

			memmove(run->typeahead, run->typeahead + 1, run->n_typeahead--);
			handle_key(run, key);
		}
		return;
	}
	play(run, &n->prompt, 1, n->interruptible, PH_ASK_PROMPT, true);
	if (n->interruptible)
		input_open(run);
}

static void accept_collect(struct ivr_run *run)
{
	const struct node *n = cur_node(run);

	var_set(run, n->var, run->digits);
	accept_input(run, run->digits, "", run->raw);
	path(run, "collected");
	goto_node(run, edge_to(n, EDGE_NEXT, 0));
}

static void collect_done(struct ivr_run *run)
{
	const struct node *n = cur_node(run);
	char spoken[70];
	size_t j = 0;

	wheel_cancel(&run->tmr);
	stop_play(run);
	if (run->n_digits < n->min_len) {
		fail(run, run->n_raw ? FAIL_INVALID : FAIL_TIMEOUT);
		return;
	}
	if (!n->confirm) {
		accept_collect(run);
		return;
	}
	/* The variable holds the digits while they are confirmed, so the confirmation prompt
	 * can say them; SystemDigitsSpoken spaces them so TTS reads them one by one. */
	for (size_t i = 0; i < run->n_digits && j + 2 < sizeof(spoken); i++) {
		if (i)
			spoken[j++] = ' ';
		spoken[j++] = run->digits[i];
	}
	spoken[j] = '\0';
	var_set(run, n->var, run->digits);
	var_set(run, "SystemDigitsSpoken", spoken);
	play(run, &n->confirm_prompt, 1, true, PH_CONFIRM_PROMPT, false);
	input_open(run);
}

static void key_menu(struct ivr_run *run, const struct node *n, char key)
{
	char k[2] = {key, '\0'}, res[16];

	for (size_t i = 0; i < n->n_keys; i++) {
		if (n->keys[i].key != key)
			continue;
		accept_input(run, k, n->keys[i].label, k);
		snprintf(res, sizeof(res), "key:%c", key);
		path(run, res);
		goto_node(run, n->type == NODE_MENU ? n->edges[n->keys[i].edge].to :
				edge_to(n, EDGE_NEXT, 0));
		return;
	}
	fail(run, FAIL_INVALID);
}

static void key_collect(struct ivr_run *run, const struct node *n, char key)
{
	if (run->n_raw < sizeof(run->raw) - 1) {
		run->raw[run->n_raw++] = key;
		run->raw[run->n_raw] = '\0';
	}
	if (n->terminator && key == n->terminator) {
		collect_done(run);
		return;
	}
	run->digits[run->n_digits++] = key;
	run->digits[run->n_digits] = '\0';
	if (run->n_digits >= n->max_len) {
		collect_done(run);
		return;
	}
	run->phase = PH_ASK_WAIT;
	wheel_start(&run->tmr, ms_scaled(run, n->inter_ms), wait_expired, run);
}

static void key_confirm(struct ivr_run *run, const struct node *n, char key)
{
	wheel_cancel(&run->tmr);
	stop_play(run);
	if (key == n->confirm_key) {
		accept_collect(run);
		return;
	}
	fail(run, key == n->reenter_key ? FAIL_REENTER : FAIL_INVALID);
}

static void handle_key(struct ivr_run *run, char key)
{
	const struct node *n = cur_node(run);

	switch (run->phase) {
	case PH_PROMPT:
		/* Barge-in on a prompt node: the key ends it and is kept for the next input
		 * node ("press 1 at any time"). */
		if (!n->interruptible)
			return;
		stop_play(run);
		if (run->n_typeahead < TYPEAHEAD_MAX) {
			run->typeahead[run->n_typeahead++] = key;
			run->typeahead[run->n_typeahead] = '\0';
		}
		path(run, "interrupted");
		goto_node(run, edge_to(n, EDGE_NEXT, 0));
		return;
	case PH_ASK_PROMPT:
	case PH_ASK_RETRY:
	case PH_CONFIRM_PROMPT:
		if (!n->interruptible && run->phase != PH_CONFIRM_PROMPT)
			return;
		stop_play(run);
		break;
	case PH_ASK_WAIT:
	case PH_CONFIRM_WAIT:
		break;
	case PH_RECORD_PROMPT:
		stop_play(run);  /* a key skips the voicemail greeting */
		return;
	case PH_RECORDING:
		if (n->end_key && key == n->end_key) {
			wheel_cancel(&run->tmr);
			run->phase = PH_RECORD_STOPPING;
			run->ops->record_stop(run->arg);
		}
		return;
	default:
		return;  /* nobody is asking: the key is not input */
	}
	wheel_cancel(&run->tmr);
	if (run->phase == PH_CONFIRM_PROMPT || run->phase == PH_CONFIRM_WAIT)
		key_confirm(run, n, key);
	else if (n->type == NODE_COLLECT)
		key_collect(run, n, key);
	else
		key_menu(run, n, key);
}

/* ---- play completions ------------------------------------------------------------- */

static void record_expired(void *arg)
{
	char prev[LOG_SESSION_ID_SIZE];
	struct ivr_run *run = run_enter(arg, prev);

	if (run->phase == PH_RECORDING) {
		run->phase = PH_RECORD_STOPPING;
		run->ops->record_stop(run->arg);
	}
	run_leave(run, prev);
}

static void record_begin(struct ivr_run *run)
{
	const struct node *n = cur_node(run);
	bool speech = n->type == NODE_SPEECH;
	struct ivr_record r = {.max_len_s = n->max_len_s, .end_key = n->end_key,
			       .beep = n->beep, .node_id = n->id, .speech = speech,
			       .silence_ms = n->silence_ms};
	int err;

	run->phase = PH_RECORDING;
	err = run->ops->record(run->arg, &r);
	if (err) {
		char res[64];
		snprintf(res, sizeof(res), "error:%s", strerror(err));
		path(run, res);
		goto_node(run, edge_to(n, speech ? EDGE_FAIL : EDGE_NEXT, 0));
		return;
	}
	wheel_start(&run->tmr, ms_scaled(run, (uint64_t)n->max_len_s * 1000), record_expired, run);
}

static void finish_hangup(struct ivr_run *run)
{
	const struct node *n = cur_node(run);
	int status;
	const char *name;
	char why[96];

	default_end(run, &status, &name);
	if (n->end_status >= 0) {
		status = n->end_status;
		name = n->end_status_string;
	}
	snprintf(why, sizeof(why), "hangup node %s", n->id);
	path(run, "hangup");
	hang_up(run, status, name, why);
}

/* The prompt of the current phase ended (played out, stopped, or could not play). */
static void node_play_done(struct ivr_run *run)
{
	const struct node *n = cur_node(run);

	run->playing = false;
	switch (run->phase) {
	case PH_PROMPT:
		path(run, "next");
		goto_node(run, edge_to(n, EDGE_NEXT, 0));
		break;
	case PH_ASK_PROMPT:
		if (!n->interruptible)
			input_open(run);
		start_wait(run, n->type == NODE_COLLECT ? n->first_ms : n->timeout_ms,
			   wait_expired);
		break;
	case PH_ASK_RETRY:
		ask_start(run);
		break;
	case PH_CONFIRM_PROMPT:
		start_wait(run, n->timeout_ms, wait_expired);
		break;
	case PH_RECORD_PROMPT:
		record_begin(run);
		break;
	case PH_HANGUP_PROMPT:
		finish_hangup(run);
		break;
	default:
		break;
	}
}

/* ---- HTTP -------------------------------------------------------------------------- */

static void http_clear(struct ivr_run *run)
{
	run->req = mem_deref(run->req);
	run->http_url = mem_deref(run->http_url);
	run->http_body = mem_deref(run->http_body);
	run->http_body_len = 0;
	for (size_t i = 0; i < run->n_http_headers; i++)
		mem_deref(run->http_headers[i]);
	run->http_headers = mem_deref(run->http_headers);
	run->n_http_headers = 0;
}

/* The JSON value at a dot path ("data.items.0.name"; numeric parts index arrays). */
static json_t *json_path(json_t *root, const char *path)
{
	char part[201];
	json_t *cur = root;

	while (cur && *path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);

		if (len >= sizeof(part))
			return NULL;
		memcpy(part, path, len);
		part[len] = '\0';
		if (json_is_object(cur)) {
			cur = json_object_get(cur, part);
		}
		else if (json_is_array(cur)) {
			char *end;
			unsigned long i = strtoul(part, &end, 10);
			cur = *part && !*end ? json_array_get(cur, i) : NULL;
		}
		else {
			return NULL;
		}
		path += len + (dot ? 1 : 0);
	}
	return cur;
}

static void set_output(struct ivr_run *run, const struct http_out *o, json_t *v)
{
	char buf[64];
	char *dump;

	if (!v || json_is_null(v)) {
		var_set(run, o->var, o->def);
	}
	else if (json_is_string(v)) {
		var_set(run, o->var, json_string_value(v));
	}
	else if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		var_set(run, o->var, buf);
	}
	else if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
		var_set(run, o->var, buf);
	}
	else if (json_is_boolean(v)) {
		var_set(run, o->var, json_is_true(v) ? "true" : "false");
	}
	else {
		dump = json_dumps(v, JSON_COMPACT);
		var_set(run, o->var, dump ? dump : o->def);
		free(dump);
	}
}

static void http_send_attempt(struct ivr_run *run);
static void speech_result(struct ivr_run *run, int err, const char *why, long status,
			  const char *body, size_t len);

static void http_result(struct ivr_run *run, int err, const char *why, long status,
			const char *body, size_t len)
{
	const struct node *n = cur_node(run);
	/* The request owns `body`: it is released once the reply is used. */
	struct ivr_http_req *req = run->req;
	json_t *reply = NULL;
	char res[160], st[16];
	json_error_t jerr;

	if (n->type == NODE_SPEECH) {
		speech_result(run, err, why, status, body, len);
		return;
	}
	run->req = NULL;
	snprintf(st, sizeof(st), "%ld", status);
	var_set(run, "SystemHttpStatus", st);
	if (!err && (status < 200 || status > 299)) {
		snprintf(res, sizeof(res), "error:status %ld", status);
	}
	else if (!err && n->n_outputs) {
		reply = json_loadb(body, len, 0, &jerr);
		if (!reply)
			snprintf(res, sizeof(res), "error:reply is not JSON (%.80s)", jerr.text);
	}
	else if (err) {
		snprintf(res, sizeof(res), "error:%.140s", why && *why ? why : strerror(err));
	}
	if (!err && status >= 200 && status <= 299 && (reply || !n->n_outputs)) {
		for (size_t i = 0; i < n->n_outputs; i++)
			set_output(run, &n->outputs[i], json_path(reply, n->outputs[i].path));
		json_decref(reply);
		mem_deref(req);
		snprintf(res, sizeof(res), "ok:%ld", status);
		http_clear(run);
		path(run, res);
		goto_node(run, edge_to(n, EDGE_NEXT, 0));
		return;
	}
	mem_deref(req);
	log_info("ivr", "node %s: attempt %u of %u failed: %s", n->id, run->http_attempt,
		 n->max_errors, res);
	if (run->http_attempt < n->max_errors) {
		http_send_attempt(run);
		return;
	}
	/* Every attempt failed: the outputs take their defaults and the flow goes on. */
	for (size_t i = 0; i < n->n_outputs; i++)
		var_set(run, n->outputs[i].var, n->outputs[i].def);
	http_clear(run);
	path(run, res);
	{
		int to = edge_to(n, EDGE_ERROR, 0);
		goto_node(run, to >= 0 ? to : edge_to(n, EDGE_NEXT, 0));
	}
}

static void http_done(int err, const char *why, long status, const char *body, size_t len,
		      void *arg)
{
	char prev[LOG_SESSION_ID_SIZE];
	struct ivr_run *run = run_enter(arg, prev);

	http_result(run, err, why, status, body, len);
	run_leave(run, prev);
}

static void stub_deliver(struct ivr_run *run)
{
	const struct stub *s = run->stub;

	run->stub = NULL;
	if (s)
		http_result(run, 0, "", s->status, s->body, strlen(s->body));
}

static void http_send_attempt(struct ivr_run *run)
{
	const struct node *n = cur_node(run);
	struct le *le;
	int err;

	run->http_attempt++;
	for (le = run->stubs.head; le; le = le->next) {
		const struct stub *s = le->data;
		if (!strcmp(s->url, run->http_url)) {
			run->stub = s;
			defer(run, ASYNC_STUB);
			return;
		}
	}
	if (!run->hc && (err = ivr_http_client_alloc(&run->hc)))
		goto fail;
	err = ivr_http_send(&run->req, run->hc, n->method, run->http_url,
			(const char *const *)run->http_headers, run->n_http_headers, run->http_body,
			n->type == NODE_SPEECH ? run->http_body_len :
			run->http_body ? strlen(run->http_body) : 0, n->timeout_ms, http_done, run);
	if (!err)
		return;
 fail:
	/* Could not even start: counts as a failed attempt, reported from the loop. */
	{
		static const char empty[] = "";
		run->req = NULL;
		http_result(run, err, strerror(err), 0, empty, 0);
	}
}

static bool has_header(const struct node *n, const char *name)
{
	for (size_t i = 0; i < n->n_headers; i++) {
		if (!strcasecmp(n->headers[i].name, name))
			return true;
	}
	return false;
}

static void http_start(struct ivr_run *run)
{
	const struct node *n = cur_node(run);
	bool json_body = !n->body && (n->n_request || strcmp(n->method, "GET"));
	size_t nh = n->n_headers + (json_body && !has_header(n, "Content-Type") ? 1 : 0);
	int err = ENOMEM;

	run->phase = PH_HTTP;
	run->http_attempt = 0;
	run->http_url = render(run, n->url);
	run->http_headers = mem_zalloc((nh + 1) * sizeof(char *), NULL);
	if (!run->http_url || !run->http_headers)
		goto fail;
	for (size_t i = 0; i < n->n_headers; i++) {
		char *v = render(run, n->headers[i].value);
		if (!v)
			goto fail;
		re_sdprintf(&run->http_headers[run->n_http_headers], "%s: %s", n->headers[i].name,
			    v);
		mem_deref(v);
		if (!run->http_headers[run->n_http_headers++])
			goto fail;
	}
	if (n->body) {
		run->http_body = render(run, n->body);
		if (!run->http_body)
			goto fail;
	}
	else if (json_body) {
		/* The documented shape: a flat JSON object of the request parameters, strings. */
		json_t *o = json_object();
		char *dump;

		for (size_t i = 0; o && i < n->n_request; i++) {
			char *v = render(run, n->request[i].value);
			if (!v || json_object_set_new(o, n->request[i].name, json_string(v))) {
				mem_deref(v);
				json_decref(o);
				goto fail;
			}
			mem_deref(v);
		}
		dump = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (!dump)
			goto fail;
		err = str_dup(&run->http_body, dump);
		free(dump);
		if (err)
			goto fail;
		if (!has_header(n, "Content-Type")) {
			str_dup(&run->http_headers[run->n_http_headers],
				"Content-Type: application/json;charset=utf-8");
			if (!run->http_headers[run->n_http_headers++])
				goto fail;
		}
	}
	http_send_attempt(run);
	return;
 fail:
	run->http_attempt = n->max_errors;
	http_result(run, ENOMEM, "out of memory", 0, "", 0);
}

/* ---- speech (AI) nodes ------------------------------------------------------------- */

/* Neither text nor intent: the flow leaves by onFail. */
static void speech_fail(struct ivr_run *run, const char *res)
{
	const struct node *n = cur_node(run);

	if (n->var)
		var_set(run, n->var, "");
	if (n->intent_var)
		var_set(run, n->intent_var, "");
	http_clear(run);
	path(run, res);
	goto_node(run, edge_to(n, EDGE_FAIL, 0));
}

/* The words heard and the intent: the variables, the input (as TCCC records speech input:
 * the recognised words as OriginalContent; the intent as its Key, or `key`), and the
 * intent's branch, else next. */
static void speech_answer(struct ivr_run *run, const char *t, const char *in, const char *key)
{
	const struct node *n = cur_node(run);
	char res[160];
	int to = -1;

	if (n->var)
		var_set(run, n->var, t);
	if (n->intent_var)
		var_set(run, n->intent_var, in);
	run->last_key_ts = clock_unix_ms();
	accept_input(run, key, key, t);
	for (size_t i = 0; i < n->n_cases && to < 0; i++) {
		if (!strcmp(n->cases[i].value, in))
			to = edge_to(n, EDGE_CASE, (int)i);
	}
	snprintf(res, sizeof(res), "%s:%.100s", to >= 0 ? "intent" : "recognised",
		 to >= 0 ? in : (*in ? in : "-"));
	http_clear(run);
	path(run, res);
	goto_node(run, to >= 0 ? to : edge_to(n, EDGE_NEXT, 0));
}

/* The local recogniser's answer, on the loop. No match (the words were none of the
 * grammar's answers, or nothing was heard) leaves by onFail like a failed recogniser, with
 * the path result "nomatch:<words>". */
static void speech_local_done(int err, const struct asr_result *r, void *arg)
{
	struct ivr_run *run = arg;
	const struct node *n;
	char res[160];

	run->asr_job = NULL;
	if (run->finished || run->phase != PH_HTTP)
		return;
	mem_ref(run);
	n = cur_node(run);
	if (!err) {
		log_info("ivr", "node %s: heard '%s' (intent '%s', %u ms CPU)", n->id, r->text,
			 r->intent, r->cpu_ms);
		/* a digit string has no intent: the digits are the input's Key, as a collect's */
		speech_answer(run, r->text, r->intent,
			      n->grammar->kind == ASR_DIGITS ? r->text : r->intent);
	}
	else {
		if (err == ENOENT)
			snprintf(res, sizeof(res), "nomatch:%.100s",
				 r->text && *r->text ? r->text : "-");
		else
			snprintf(res, sizeof(res), "error:recogniser: %s", strerror(err));
		log_info("ivr", "node %s: the local recogniser: %s: onFail", n->id, res);
		speech_fail(run, res);
	}
	mem_deref(run);
}

/* The answer to the local recogniser's queue; a full queue is the node's onFail at once. */
static void speech_local(struct ivr_run *run, const uint8_t *wav, size_t wav_len)
{
	const struct node *n = cur_node(run);
	const uint8_t *pcm = NULL;
	size_t samples = 0;
	char res[96];
	int err;

	if (!run->asr) {
		speech_fail(run, "error:no local recogniser");
		return;
	}
	err = wav ? asr_wav_pcm(wav, wav_len, &pcm, &samples) : EINVAL;
	if (err) {
		speech_fail(run, "error:the answer is not 8 kHz 16-bit mono");
		return;
	}
	run->phase = PH_HTTP;
	err = asr_submit(run->asr, &run->asr_job, n->grammar, pcm, samples, speech_local_done,
			 run);
	if (err) {
		snprintf(res, sizeof(res), "error:%s", err == EBUSY ?
			 "the local recogniser's queue is full" : strerror(err));
		log_warn("ivr", "node %s: %s: onFail", n->id, res + 6);
		speech_fail(run, res);
	}
}

/* The answer's WAV to the recogniser. The bytes were read by the media module's recorder
 * thread and came with the completion, so a speech node never reads the disk on the
 * control loop; the run keeps a reference for its attempts. */
static void speech_send(struct ivr_run *run, int err, uint8_t *wav, size_t wav_len)
{
	const struct node *n = cur_node(run);
	char res[96];

	if (err) {
		snprintf(res, sizeof(res), "error:recording: %s", strerror(err));
		log_info("ivr", "node %s: the answer was not recorded (%s): onFail", n->id,
			 strerror(err));
		speech_fail(run, res);
		return;
	}
	if (n->grammar) {
		speech_local(run, wav, wav_len);
		return;
	}
	run->phase = PH_HTTP;
	run->http_attempt = 0;
	run->http_url = render(run, n->url);
	run->http_headers = mem_zalloc((n->n_headers + 2) * sizeof(char *), NULL);
	if (!run->http_url || !run->http_headers) {
		speech_fail(run, "error:out of memory");
		return;
	}
	for (size_t i = 0; i < n->n_headers; i++) {
		char *v = render(run, n->headers[i].value);

		if (v)
			re_sdprintf(&run->http_headers[run->n_http_headers], "%s: %s",
				    n->headers[i].name, v);
		mem_deref(v);
		if (!run->http_headers[run->n_http_headers++]) {
			speech_fail(run, "error:out of memory");
			return;
		}
	}
	if (!has_header(n, "Content-Type") &&
	    str_dup(&run->http_headers[run->n_http_headers++], "Content-Type: audio/wav")) {
		speech_fail(run, "error:out of memory");
		return;
	}
	if (wav) {
		run->http_body = mem_ref(wav);
		run->http_body_len = wav_len;
	}
	else if (str_dup(&run->http_body, "")) {
		speech_fail(run, "error:out of memory");
		return;
	}
	http_send_attempt(run);
}

/* The recogniser's answer: {"text": "...", "intent": "..."} on a 2xx. */
static void speech_result(struct ivr_run *run, int err, const char *why, long status,
			  const char *body, size_t len)
{
	const struct node *n = cur_node(run);
	struct ivr_http_req *req = run->req;
	json_t *reply = NULL, *text = NULL, *intent = NULL;
	char res[160], st[16];

	run->req = NULL;
	snprintf(st, sizeof(st), "%ld", status);
	var_set(run, "SystemHttpStatus", st);
	if (err)
		snprintf(res, sizeof(res), "error:%.140s", why && *why ? why : strerror(err));
	else if (status < 200 || status > 299)
		snprintf(res, sizeof(res), "error:status %ld", status);
	else if (!(reply = json_loadb(body, len, 0, NULL)) || !json_is_object(reply) ||
		 !json_is_string(text = json_object_get(reply, "text")) ||
		 ((intent = json_object_get(reply, "intent")) && !json_is_null(intent) &&
		  !json_is_string(intent)))
		snprintf(res, sizeof(res), "error:the reply is not {\"text\", \"intent\"}");
	else
		res[0] = '\0';
	mem_deref(req);
	if (res[0]) {
		json_decref(reply);
		log_info("ivr", "node %s: the recogniser failed: %s", n->id, res);
		speech_fail(run, res);
		return;
	}
	{
		const char *in = json_is_string(intent) ? json_string_value(intent) : "";

		speech_answer(run, json_string_value(text), in, in);
	}
	json_decref(reply);
}

/* ---- transfers --------------------------------------------------------------------- */

static void transfer_start(struct ivr_run *run)
{
	const struct node *n = cur_node(run);
	struct ivr_transfer t = {.ring_timeout_s = n->ring_timeout_s,
				 .survey_ivr_id = n->survey_ivr_id};
	struct ivr_prompt hold = {.file = n->prompt.file,
				  .lang = n->prompt.lang ? n->prompt.lang : run->flow->lang};
	char *number = NULL, *caller = NULL, *holdtext = NULL;
	int err;

	run->phase = PH_TRANSFER;
	switch (n->type) {
	case NODE_TRANSFER_SKILL:
		t.kind = IVR_TRANSFER_SKILL_GROUP;
		t.skill_group_id = n->skill_group_id;
		t.destinations = n->destinations;
		t.n_destinations = n->n_destinations;
		t.max_wait_s = n->max_wait_s;
		break;
	case NODE_TRANSFER_AGENT:
		t.kind = IVR_TRANSFER_AGENT;
		number = render(run, n->number);
		break;
	default:
		t.kind = IVR_TRANSFER_EXTERNAL;
		number = render(run, n->number);
		caller = n->caller ? render(run, n->caller) : NULL;
		break;
	}
	t.number = number ? number : "";
	t.caller = caller ? caller : "";
	if (n->prompt.set) {
		if (n->prompt.tts) {
			holdtext = render(run, n->prompt.tts);
			hold.text = holdtext ? holdtext : "";
			hold.file = NULL;
		}
		t.hold = &hold;
	}
	err = run->ops->transfer(run->arg, &t);
	mem_deref(number);
	mem_deref(caller);
	mem_deref(holdtext);
	/* EACCES: the instance's destination allow-list refused every number (toll fraud) */
	if (err)
		ivr_on_transfer_result(run, false, err == EACCES ? "destination refused" :
				       strerror(err));
}

/* ---- walking the graph ------------------------------------------------------------ */

static void do_assign(struct ivr_run *run, const struct node *n)
{
	for (size_t i = 0; i < n->n_assigns; i++) {
		const struct assign *a = &n->assigns[i];
		char *v;

		if (a->is_add) {
			const char *cur = lookup(a->var, run);
			char *end, buf[64];
			double d = strtod(cur, &end);

			if (end == cur || *end || !isfinite(d))
				d = 0;
			d += a->add;
			if (d == floor(d) && fabs(d) < 1e15)
				snprintf(buf, sizeof(buf), "%.0f", d);
			else
				snprintf(buf, sizeof(buf), "%.15g", d);
			var_set(run, a->var, buf);
			continue;
		}
		v = render(run, a->value);
		var_set(run, a->var, v ? v : "");
		mem_deref(v);
	}
}

static int do_condition(struct ivr_run *run, const struct node *n, char *res, size_t sz)
{
	for (size_t i = 0; i < n->n_cases; i++) {
		const struct cond_case *c = &n->cases[i];
		char *rhs = render(run, c->value);
		bool hit = cond_eval(c->op, lookup(c->var, run), rhs ? rhs : "");

		mem_deref(rhs);
		if (hit) {
			snprintf(res, sz, "case:%zu", i);
			return n->edges[c->edge].to;
		}
	}
	snprintf(res, sz, "else");
	return edge_to(n, EDGE_ELSE, 0);
}

/* ---- answering-machine detection ------------------------------------------------- */

/* An amd node's exit for the verdict: UNSURE when detection is off for the call, or when
 * `why` (the node's own timeout) says it waited in vain. The machine exit marks the run:
 * whatever ends the call from now on, it ends because a machine answered. */
static int amd_branch(struct ivr_run *run, const struct node *n, const char *why)
{
	enum ivr_amd v = run->amd_on ? run->verdict : IVR_AMD_UNSURE;
	char res[32];

	if (why || v == IVR_AMD_PENDING)
		v = IVR_AMD_UNSURE;
	snprintf(res, sizeof(res), "%s%s%s", ivr_amd_name(v), why ? ":" : "",
		 why ? why : !run->amd_on ? ":off" : "");
	path(run, res);
	if (v == IVR_AMD_MACHINE)
		run->machine = true;
	return edge_to(n, v == IVR_AMD_HUMAN ? EDGE_HUMAN : v == IVR_AMD_MACHINE ? EDGE_MACHINE :
		       EDGE_UNSURE, 0);
}

static void amd_expired(void *arg)
{
	char prev[LOG_SESSION_ID_SIZE];
	struct ivr_run *run = run_enter(arg, prev);

	if (run->phase == PH_AMD_WAIT) {
		run->phase = PH_IDLE;
		goto_node(run, amd_branch(run, cur_node(run), "timeout"));
	}
	run_leave(run, prev);
}

static void beep_expired(void *arg)
{
	char prev[LOG_SESSION_ID_SIZE];
	struct ivr_run *run = run_enter(arg, prev);

	if (run->phase == PH_BEEP_WAIT) {
		run->phase = PH_IDLE;
		path(run, "timeout");
		goto_node(run, edge_to(cur_node(run), EDGE_TIMEOUT, 0));
	}
	run_leave(run, prev);
}

static void goto_node(struct ivr_run *run, int idx)
{
	char res[32];

	for (;;) {
		const struct node *n;

		if (run->finished)
			return;
		if (idx < 0 || (size_t)idx >= run->flow->n_nodes) {
			hang_up_system(run, "error", "flow error: an exit leads nowhere");
			return;
		}
		if (++run->visits > run->flow->max_visits) {
			char why[80];
			snprintf(why, sizeof(why), "node visit limit (%u) reached",
				 run->flow->max_visits);
			hang_up_system(run, "limit:visits", why);
			return;
		}
		run->cur = idx;
		run->tries = 0;
		n = cur_node(run);
		switch (n->type) {
		case NODE_START:
			path(run, "next");
			idx = edge_to(n, EDGE_NEXT, 0);
			continue;
		case NODE_SETVAR:
			do_assign(run, n);
			path(run, "next");
			idx = edge_to(n, EDGE_NEXT, 0);
			continue;
		case NODE_CONDITION:
			idx = do_condition(run, n, res, sizeof(res));
			path(run, res);
			continue;
		case NODE_HOURS: {
			/* An instant the zone cannot place is closed: an out-of-hours branch is
			 * the safe answer, not a caller sent to an empty office. */
			bool open = hours_at(n->tz, n->windows, n->n_windows, n->holidays,
					     n->n_holidays, clock_unix_s(), NULL) == HOURS_OPEN;

			path(run, open ? "open" : "closed");
			idx = edge_to(n, open ? EDGE_OPEN : EDGE_CLOSED, 0);
			continue;
		}
		case NODE_PROMPT:
			play(run, &n->prompt, n->plays, n->interruptible, PH_PROMPT, false);
			return;
		case NODE_MENU:
		case NODE_SURVEY:
		case NODE_COLLECT:
			run->prompt_text = mem_deref(run->prompt_text);
			ask_start(run);
			return;
		default:
			break;
		}
		/* Everything else is not input: keys typed ahead are dropped. */
		run->n_typeahead = 0;
		switch (n->type) {
		case NODE_HTTP:
			http_start(run);
			return;
		case NODE_TRANSFER_SKILL:
		case NODE_TRANSFER_AGENT:
		case NODE_TRANSFER_EXT:
			transfer_start(run);
			return;
		case NODE_VOICEMAIL:
			if (n->prompt.set)
				play(run, &n->prompt, 1, true, PH_RECORD_PROMPT, false);
			else
				record_begin(run);
			return;
		case NODE_SPEECH:
			run->prompt_text = mem_deref(run->prompt_text);
			if (n->prompt.tts)
				run->prompt_text = render(run, n->prompt.tts);
			play(run, &n->prompt, 1, true, PH_RECORD_PROMPT, false);
			return;
		case NODE_HANGUP:
			if (n->prompt.set)
				play(run, &n->prompt, 1, false, PH_HANGUP_PROMPT, false);
			else
				finish_hangup(run);
			return;
		case NODE_AMD:
			if (!run->amd_on || run->verdict != IVR_AMD_PENDING) {
				idx = amd_branch(run, n, NULL);
				continue;
			}
			run->phase = PH_AMD_WAIT;
			wheel_start(&run->tmr, ms_scaled(run, n->timeout_ms), amd_expired, run);
			return;
		case NODE_WAIT_BEEP:
			if (!run->amd_on || run->beep) {
				path(run, run->beep ? "beep" : "off");
				idx = edge_to(n, run->beep ? EDGE_NEXT : EDGE_TIMEOUT, 0);
				continue;
			}
			run->phase = PH_BEEP_WAIT;
			wheel_start(&run->tmr, ms_scaled(run, n->timeout_ms), beep_expired, run);
			return;
		default:
			hang_up_system(run, "error", "flow error: a node of unknown type");
			return;
		}
	}
}

/* ---- the public face ------------------------------------------------------------- */

static void run_destructor(void *arg)
{
	struct ivr_run *run = arg;

	cancel_all(run);
	http_clear(run);
	mem_deref(run->hc);
	list_flush(&run->stubs);
	mem_deref(run->prompt_text);
	json_decref(run->vars);
	mem_deref(run->flow);
}

static int set_num(struct ivr_run *run, const char *name, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_object_set_new(run->vars, name, json_string(buf)) ? ENOMEM : 0;
}

static int load_vars(struct ivr_run *run, const struct ivr_call_info *ci)
{
	const char *k;
	json_t *v, *req;
	size_t i;
	int err = 0;

	if (run->flow->declared) {
		json_object_foreach(run->flow->declared, k, v) {
			if (json_object_set(run->vars, k, v))
				return ENOMEM;
		}
	}
	if (ci->variables && *ci->variables) {
		req = json_loads(ci->variables, 0, NULL);
		if (!json_is_array(req)) {
			json_decref(req);
			return EINVAL;
		}
		json_array_foreach(req, i, v) {
			const char *key = json_string_value(json_object_get(v, "Key"));
			json_t *val = json_object_get(v, "Value");

			if (!key || !json_is_string(val)) {
				err = EINVAL;
				break;
			}
			/* System variables are the call's facts; a request cannot override them. */
			if (!strncmp(key, "System", 6))
				continue;
			if (json_object_set(run->vars, key, val)) {
				err = ENOMEM;
				break;
			}
		}
		json_decref(req);
		if (err)
			return err;
	}
	var_set(run, "SystemCallerNumber", ci->caller);
	var_set(run, "SystemCalleeNumber", ci->callee);
	var_set(run, "SystemSessionId", ci->session_id);
	snprintf(run->sid, sizeof(run->sid), "%s", ci->session_id ? ci->session_id : "");
	var_set(run, "SystemUUI", ci->uui);
	err |= set_num(run, "SystemSdkAppId", (int64_t)ci->sdkappid);
	err |= set_num(run, "SystemStartTime", ci->start_ts);
	err |= set_num(run, "SystemCallRingDuration",
		       ci->ring_ts && ci->accept_ts >= ci->ring_ts ? ci->accept_ts - ci->ring_ts : 0);
	var_set(run, "SystemCallAcceptDuration", "0");
	return err ? ENOMEM : 0;
}

int ivr_run_alloc(struct ivr_run **runp, struct ivr_flow *flow, const struct ivr_call_info *ci,
		  const struct ivr_ops *ops, void *arg, const struct ivr_run_opts *opts)
{
	static const struct ivr_call_info none;
	struct ivr_run *run;
	int err;

	if (!runp || !flow || !ops || !ops->play || !ops->stop || !ops->transfer ||
	    !ops->record || !ops->record_stop || !ops->hangup || flow->start < 0)
		return EINVAL;
	run = mem_zalloc(sizeof(*run), run_destructor);
	if (!run)
		return ENOMEM;
	run->flow = mem_ref(flow);
	run->ops = ops;
	run->arg = arg;
	run->cur = -1;
	run->speed = opts && opts->speed > 1 ? opts->speed : 1;
	run->asr = opts ? opts->asr : NULL;
	wheel_tmr_init(&run->tmr);
	wheel_tmr_init(&run->guard);
	tmr_init(&run->async);
	list_init(&run->stubs);
	run->vars = json_object();
	if (!ci)
		ci = &none;
	run->accept_ts = ci->accept_ts;
	run->amd_on = ci->amd;
	err = run->vars ? load_vars(run, ci) : ENOMEM;
	if (err)
		mem_deref(run);
	else
		*runp = run;
	return err;
}

int ivr_run_start(struct ivr_run *run)
{
	if (!run || run->cur >= 0 || run->finished)
		return EINVAL;
	mem_ref(run);
	wheel_start(&run->guard, ms_scaled(run, (uint64_t)run->flow->max_duration_s * 1000),
		  guard_expired, run);
	goto_node(run, run->flow->start);
	mem_deref(run);
	return 0;
}

static void stub_destructor(void *arg)
{
	struct stub *s = arg;

	mem_deref(s->url);
	mem_deref(s->body);
}

int ivr_run_http_stub(struct ivr_run *run, const char *url, int status, const char *body)
{
	struct stub *s;

	if (!run || !url || !body)
		return EINVAL;
	s = mem_zalloc(sizeof(*s), stub_destructor);
	if (!s)
		return ENOMEM;
	s->status = status;
	if (str_dup(&s->url, url) || str_dup(&s->body, body)) {
		mem_deref(s);
		return ENOMEM;
	}
	list_append(&run->stubs, &s->le, s);
	return 0;
}

void ivr_on_digit(struct ivr_run *run, char key, int64_t ts_ms)
{
	if (!run || run->finished || run->cur < 0)
		return;
	if (!((key >= '0' && key <= '9') || key == '*' || key == '#'))
		return;
	mem_ref(run);
	run->last_key_ts = ts_ms;
	handle_key(run, key);
	mem_deref(run);
}

void ivr_on_play_done(struct ivr_run *run, uint32_t play_id, bool stopped)
{
	(void)stopped;
	/* A stale id is a prompt the run stopped itself (barge-in); already handled. */
	if (!run || run->finished || !run->playing || play_id != run->play_id)
		return;
	mem_ref(run);
	node_play_done(run);
	mem_deref(run);
}

void ivr_on_transfer_result(struct ivr_run *run, bool connected, const char *why)
{
	char res[96];

	if (!run || run->finished || run->phase != PH_TRANSFER)
		return;
	mem_ref(run);
	if (connected) {
		/* The call is the agent's or the external party's now: the IVR is over. */
		path(run, "connected");
		cancel_all(run);
		run->phase = PH_DONE;
		run->finished = true;
	}
	else {
		snprintf(res, sizeof(res), "failed:%.80s", why ? why : "");
		path(run, res);
		goto_node(run, edge_to(cur_node(run), EDGE_FAIL, 0));
	}
	mem_deref(run);
}

void ivr_on_record_done(struct ivr_run *run, int err, uint8_t *wav, size_t wav_len)
{
	char res[64];

	if (!run || run->finished ||
	    (run->phase != PH_RECORDING && run->phase != PH_RECORD_STOPPING))
		return;
	mem_ref(run);
	wheel_cancel(&run->tmr);
	if (cur_node(run)->type == NODE_SPEECH) {
		speech_send(run, err, wav, wav_len);
		mem_deref(run);
		return;
	}
	if (err)
		snprintf(res, sizeof(res), "error:%s", strerror(err));
	else
		snprintf(res, sizeof(res), "recorded");
	path(run, res);
	goto_node(run, edge_to(cur_node(run), EDGE_NEXT, 0));
	mem_deref(run);
}

void ivr_on_hangup(struct ivr_run *run)
{
	if (!run || run->finished)
		return;
	mem_ref(run);
	if (run->cur >= 0)
		path(run, "callerHangup");
	cancel_all(run);
	http_clear(run);
	run->phase = PH_DONE;
	run->finished = true;
	mem_deref(run);
}

const char *ivr_amd_name(enum ivr_amd v)
{
	switch (v) {
	case IVR_AMD_HUMAN:   return "human";
	case IVR_AMD_MACHINE: return "machine";
	case IVR_AMD_UNSURE:  return "unsure";
	default:              return "pending";
	}
}

/* The verdict does not interrupt a prompt: a human who speaks while the greeting plays is
 * the normal case, and the amd node after the prompt takes the verdict at once. Only the
 * onMachine hang-up of a flow without an amd node cuts in: nobody is there to listen. */
void ivr_on_amd(struct ivr_run *run, enum ivr_amd verdict)
{
	if (!run || !run->amd_on || run->verdict != IVR_AMD_PENDING ||
	    verdict == IVR_AMD_PENDING)
		return;
	run->verdict = verdict;
	if (run->finished || run->cur < 0)
		return;
	mem_ref(run);
	if (run->phase == PH_AMD_WAIT) {
		wheel_cancel(&run->tmr);
		run->phase = PH_IDLE;
		goto_node(run, amd_branch(run, cur_node(run), NULL));
	}
	else if (verdict == IVR_AMD_MACHINE && !run->flow->amd_node && !run->flow->amd_continue) {
		run->machine = true;
		hang_up_system(run, "amd:machine", "an answering machine answered (onMachine "
			       "hangup)");
	}
	mem_deref(run);
}

void ivr_on_beep(struct ivr_run *run)
{
	if (!run || !run->amd_on || run->beep)
		return;
	run->beep = true;
	if (run->finished || run->phase != PH_BEEP_WAIT)
		return;
	mem_ref(run);
	wheel_cancel(&run->tmr);
	run->phase = PH_IDLE;
	path(run, "beep");
	goto_node(run, edge_to(cur_node(run), EDGE_NEXT, 0));
	mem_deref(run);
}

bool ivr_run_machine(const struct ivr_run *run)
{
	return run && run->machine;
}

bool ivr_run_finished(const struct ivr_run *run)
{
	return !run || run->finished;
}
