/* ccc ivr: flow tools — validate a flow document, simulate a call through it. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_tmr.h>
#include <re_main.h>
#include "base/base.h"
#include "cli/cli.h"
#include "ivr/ivr.h"
#include "wheel/wheel.h"

enum { SIM_MAX_TOKENS = 64, SIM_MAX_VARS = 64, SIM_MAX_STUBS = 16 };

static int ivr_usage(void)
{
	fprintf(stderr,
		"usage: ccc ivr validate FILE [--prompt-dir DIR] [--allow-http]\n"
		"       ccc ivr simulate FILE [--digits 1,2,_,123#] [--var KEY=VALUE]...\n"
		"           [--http-stub URL=[STATUS:]JSON]... [--speed N] [--caller NUMBER]\n"
		"           [--callee NUMBER] [--transfer ok|fail] [--prompt-dir DIR] [--allow-http]\n"
		"           [--amd human|machine|unsure [--beep]]\n"
		"  validate prints every finding and exits 1 if there is any.\n"
		"  simulate runs the flow without a call: each --digits token is typed when the\n"
		"  flow next waits for input (\"_\" lets that wait time out); timers run --speed\n"
		"  times faster (default 100); HTTP nodes are real unless stubbed. Prompts with\n"
		"  their filled templates, the path and the final variables are printed.\n"
		"  --amd runs the call with answering-machine detection, its verdict (and with\n"
		"  --beep the machine's beep) heard as the first prompt starts.\n");
	return 2;
}

static int read_file(const char *path, char **textp, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err = 0;

	if (!f)
		return errno;
	for (;;) {
		if (len + 4096 > cap) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			if (cap > 16 * 1024 * 1024) {
				err = EFBIG;
				break;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				err = ENOMEM;
				break;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				err = EIO;
			break;
		}
	}
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*textp = buf;
	*lenp = len;
	return 0;
}

void cli_ivr_diag_print(FILE *out, const char *file, const struct ivr_diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct ivr_issue *is = &d->v[i];
		if (is->node[0])
			fprintf(out, "%s: node '%s'%s%s: %s\n", file, is->node,
				is->field[0] ? " " : "", is->field, is->msg);
		else
			fprintf(out, "%s: %s%s%s%s\n", file, is->field[0] ? "field " : "",
				is->field, is->field[0] ? ": " : "", is->msg);
	}
	if (d->truncated)
		fprintf(out, "%s: more than %d findings; the rest are not shown\n", file,
			IVR_DIAG_MAX);
}

/* Loads FILE; prints the findings. prompt_dir defaults to the file's folder. */
static int load(const char *file, const char *prompt_dir, bool allow_http,
		struct ivr_flow **flowp)
{
	struct ivr_diag *diag = NULL;
	char *text = NULL, *dircopy = NULL;
	size_t len = 0;
	int err;

	err = read_file(file, &text, &len);
	if (err) {
		fprintf(stderr, "ccc ivr: cannot read %s: %s\n", file, strerror(err));
		return err;
	}
	if (!prompt_dir) {
		dircopy = strdup(file);
		prompt_dir = dircopy ? dirname(dircopy) : ".";
	}
	struct ivr_flow_opts opts = {.prompt_dir = prompt_dir, .allow_plain_http = allow_http};
	err = ivr_flow_load(flowp, text, len, &opts, &diag);
	if (err == EINVAL && diag)
		cli_ivr_diag_print(stdout, file, diag);
	else if (err)
		fprintf(stderr, "ccc ivr: %s: %s\n", file, strerror(err));
	mem_deref(diag);
	free(text);
	free(dircopy);
	return err;
}

static int cmd_validate(int argc, char **argv)
{
	const char *file = NULL, *prompt_dir = NULL;
	bool allow_http = false;
	struct ivr_flow *flow = NULL;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--prompt-dir") && i + 1 < argc)
			prompt_dir = argv[++i];
		else if (!strcmp(argv[i], "--allow-http"))
			allow_http = true;
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else
			return ivr_usage();
	}
	if (!file)
		return ivr_usage();
	err = load(file, prompt_dir, allow_http, &flow);
	if (err)
		return 1;
	printf("%s: ok (ivr %llu \"%s\", %s, %zu nodes)\n", file,
	       (unsigned long long)ivr_flow_id(flow), ivr_flow_name(flow),
	       ivr_flow_type_name(ivr_flow_type(flow)), ivr_flow_node_count(flow));
	mem_deref(flow);
	return 0;
}

/* ---- simulate -------------------------------------------------------------------- */

struct sim {
	struct ivr_run *run;
	const char *tokens[SIM_MAX_TOKENS];
	size_t n_tokens, next_token;
	const char *typing;          /* the token being typed */
	struct tmr play_tmr, type_tmr, end_tmr, rec_tmr, xfer_tmr, limit_tmr;
	uint32_t play_id;
	bool transfer_ok, xfer_connected;
	char xfer_why[64];
	uint64_t t0;
	int exit_code;
};

static void stamp(const struct sim *s)
{
	uint64_t ms = clock_mono_ms() - s->t0;
	printf("[%4llu.%03llu] ", (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
}

static void sim_play_done(void *arg)
{
	struct sim *s = arg;
	ivr_on_play_done(s->run, s->play_id, false);
}

static int sim_play(void *arg, const struct ivr_prompt *p, unsigned loops, bool barge_in,
		    uint32_t *play_id)
{
	struct sim *s = arg;

	stamp(s);
	if (p->text)
		printf("play    \"%s\"%s%s\n", p->text, barge_in ? " (interruptible)" : "",
		       loops > 1 ? " (repeated)" : "");
	else
		printf("play    file %s%s\n", p->file, barge_in ? " (interruptible)" : "");
	*play_id = ++s->play_id;
	/* Every prompt "plays" for 20 ms of simulated time per loop. */
	tmr_start(&s->play_tmr, 20 * (loops ? loops : 1), sim_play_done, s);
	return 0;
}

static void sim_stop(void *arg)
{
	struct sim *s = arg;

	tmr_cancel(&s->play_tmr);
	stamp(s);
	printf("stop    (barge-in)\n");
}

static void sim_xfer_done(void *arg)
{
	struct sim *s = arg;
	ivr_on_transfer_result(s->run, s->xfer_connected, s->xfer_why);
	if (s->xfer_connected)
		re_cancel();
}

static int sim_transfer(void *arg, const struct ivr_transfer *t)
{
	struct sim *s = arg;

	stamp(s);
	switch (t->kind) {
	case IVR_TRANSFER_SKILL_GROUP:
		printf("transfer skill group %llu:", (unsigned long long)t->skill_group_id);
		for (size_t i = 0; i < t->n_destinations; i++)
			printf(" %s", t->destinations[i]);
		printf("\n");
		break;
	case IVR_TRANSFER_AGENT:
		printf("transfer agent %s\n", t->number);
		break;
	default:
		printf("transfer external %s (caller %s)\n", t->number,
		       *t->caller ? t->caller : "of the call");
		break;
	}
	s->xfer_connected = s->transfer_ok;
	snprintf(s->xfer_why, sizeof(s->xfer_why), "%s", s->transfer_ok ? "" : "simulated failure");
	tmr_start(&s->xfer_tmr, 10, sim_xfer_done, s);
	return 0;
}

static void sim_rec_done(void *arg)
{
	struct sim *s = arg;
	ivr_on_record_done(s->run, 0, NULL, 0);
}

static int sim_record(void *arg, const struct ivr_record *r)
{
	struct sim *s = arg;

	stamp(s);
	printf("record  up to %u s, end key %c%s\n", r->max_len_s, r->end_key ? r->end_key : '-',
	       r->beep ? ", after a beep" : "");
	return 0;
}

static void sim_record_stop(void *arg)
{
	struct sim *s = arg;

	stamp(s);
	printf("record  stopped\n");
	tmr_start(&s->rec_tmr, 1, sim_rec_done, s);
}

static void sim_end(void *arg)
{
	(void)arg;
	re_cancel();
}

static void sim_hangup(void *arg, const struct ivr_end *end)
{
	struct sim *s = arg;

	stamp(s);
	printf("hangup  EndStatus %d %s, HungUpSide %s (%s)\n", end->end_status,
	       end->end_status_string, end->hungup_side, end->reason);
	tmr_start(&s->end_tmr, 0, sim_end, s);
}

static void sim_key(void *arg, const struct ivr_key_press *kp)
{
	struct sim *s = arg;

	stamp(s);
	printf("input   Key \"%s\" Label \"%s\" NodeLabel \"%s\" OriginalContent \"%s\" "
	       "TTSPrompt \"%s\"%s\n", kp->key, kp->label, kp->node_label, kp->original,
	       kp->tts_prompt, kp->post ? " (PostIVRKeyPressed)" : "");
}

static void sim_path(void *arg, const char *node_id, const char *label, const char *result,
		     int64_t ts_ms)
{
	struct sim *s = arg;

	(void)ts_ms;
	stamp(s);
	if (strcmp(node_id, label))
		printf("path    %s (%s) -> %s\n", node_id, label, result);
	else
		printf("path    %s -> %s\n", node_id, result);
}

static void sim_type(void *arg)
{
	struct sim *s = arg;
	const char *t = s->typing;

	s->typing = NULL;
	if (!t)
		return;
	for (; *t && !ivr_run_finished(s->run); t++) {
		stamp(s);
		printf("caller  presses %c\n", *t);
		ivr_on_digit(s->run, *t, clock_unix_ms());
	}
}

static void sim_input(void *arg, const char *node_id)
{
	struct sim *s = arg;
	const char *tok;

	(void)node_id;
	if (s->next_token >= s->n_tokens)
		return;
	tok = s->tokens[s->next_token++];
	if (!strcmp(tok, "_")) {
		stamp(s);
		printf("caller  stays silent\n");
		return;
	}
	s->typing = tok;
	/* The keys come a moment after the flow starts listening: during the prompt. */
	tmr_start(&s->type_tmr, 5, sim_type, s);
}

static const struct ivr_ops sim_ops = {
	.play = sim_play, .stop = sim_stop, .transfer = sim_transfer, .record = sim_record,
	.record_stop = sim_record_stop, .hangup = sim_hangup, .key = sim_key, .path = sim_path,
	.input = sim_input,
};

static void sim_limit(void *arg)
{
	struct sim *s = arg;

	fprintf(stderr, "ccc ivr: the simulation did not end within 10 minutes\n");
	s->exit_code = 1;
	re_cancel();
}

/* "URL=JSON" or "URL=STATUS:JSON": the split is the first '=' that a JSON value or a
 * status follows, since URLs may hold '=' in their query. */
static int parse_stub(char *arg, const char **url, int *status, const char **body)
{
	for (char *p = strchr(arg, '='); p; p = strchr(p + 1, '=')) {
		char *v = p + 1;
		if (v[0] >= '1' && v[0] <= '5' && strlen(v) >= 4 && v[1] >= '0' && v[1] <= '9' &&
		    v[2] >= '0' && v[2] <= '9' && v[3] == ':') {
			*p = '\0';
			*url = arg;
			*status = atoi(v);
			*body = v + 4;
			return 0;
		}
		if (*v == '{' || *v == '[' || *v == '"') {
			*p = '\0';
			*url = arg;
			*status = 200;
			*body = v;
			return 0;
		}
	}
	return EINVAL;
}

static int cmd_simulate(int argc, char **argv)
{
	const char *file = NULL, *prompt_dir = NULL, *caller = "008613800000000",
		   *callee = "008613900000000";
	char *digits = NULL;
	const char *stub_url[SIM_MAX_STUBS], *stub_body[SIM_MAX_STUBS];
	int stub_status[SIM_MAX_STUBS];
	size_t n_stubs = 0;
	bool allow_http = false, beep = false;
	enum ivr_amd amd = IVR_AMD_PENDING;
	unsigned long speed = 100;
	json_t *vars = json_array();
	struct ivr_flow *flow = NULL;
	struct sim s = {.transfer_ok = true};
	char *vars_json = NULL, *final = NULL, session[33];
	int err, rc = 1;

	if (!vars)
		return 1;
	for (int i = 1; i < argc; i++) {
		bool more = i + 1 < argc;
		if (!strcmp(argv[i], "--digits") && more) {
			digits = argv[++i];
		}
		else if (!strcmp(argv[i], "--var") && more) {
			char *eq = strchr(argv[++i], '=');
			if (!eq || eq == argv[i]) {
				fprintf(stderr, "ccc ivr: --var wants KEY=VALUE\n");
				goto out;
			}
			*eq = '\0';
			json_array_append_new(vars, json_pack("{s:s,s:s}", "Key", argv[i], "Value",
							      eq + 1));
		}
		else if (!strcmp(argv[i], "--http-stub") && more) {
			if (n_stubs >= SIM_MAX_STUBS ||
			    parse_stub(argv[++i], &stub_url[n_stubs], &stub_status[n_stubs],
				       &stub_body[n_stubs])) {
				fprintf(stderr, "ccc ivr: --http-stub wants URL=[STATUS:]JSON\n");
				goto out;
			}
			n_stubs++;
		}
		else if (!strcmp(argv[i], "--speed") && more) {
			speed = strtoul(argv[++i], NULL, 10);
			if (speed < 1 || speed > 100000) {
				fprintf(stderr, "ccc ivr: --speed is 1-100000\n");
				goto out;
			}
		}
		else if (!strcmp(argv[i], "--caller") && more) {
			caller = argv[++i];
		}
		else if (!strcmp(argv[i], "--callee") && more) {
			callee = argv[++i];
		}
		else if (!strcmp(argv[i], "--transfer") && more) {
			s.transfer_ok = strcmp(argv[++i], "fail") != 0;
		}
		else if (!strcmp(argv[i], "--prompt-dir") && more) {
			prompt_dir = argv[++i];
		}
		else if (!strcmp(argv[i], "--allow-http")) {
			allow_http = true;
		}
		else if (!strcmp(argv[i], "--amd") && more) {
			i++;
			amd = !strcmp(argv[i], "human") ? IVR_AMD_HUMAN :
			      !strcmp(argv[i], "machine") ? IVR_AMD_MACHINE :
			      !strcmp(argv[i], "unsure") ? IVR_AMD_UNSURE : IVR_AMD_PENDING;
			if (amd == IVR_AMD_PENDING) {
				fprintf(stderr, "ccc ivr: --amd is human, machine or unsure\n");
				goto out;
			}
		}
		else if (!strcmp(argv[i], "--beep")) {
			beep = true;
		}
		else if (argv[i][0] != '-' && !file) {
			file = argv[i];
		}
		else {
			rc = ivr_usage();
			goto out;
		}
	}
	if (!file) {
		rc = ivr_usage();
		goto out;
	}
	for (char *tok = digits ? strtok(digits, ",") : NULL; tok && s.n_tokens < SIM_MAX_TOKENS;
	     tok = strtok(NULL, ","))
		s.tokens[s.n_tokens++] = tok;

	err = libre_init();
	if (err) {
		fprintf(stderr, "ccc ivr: libre_init: %s\n", strerror(err));
		goto out;
	}
	if (load(file, prompt_dir, allow_http, &flow))
		goto close;

	vars_json = json_dumps(vars, JSON_COMPACT);
	ids_session(session);
	struct ivr_call_info ci = {
		.caller = caller, .callee = callee, .session_id = session,
		.sdkappid = 1400000000, .start_ts = clock_unix_s(), .uui = "",
		.ring_ts = clock_unix_s(), .accept_ts = clock_unix_s(), .variables = vars_json,
		.amd = amd != IVR_AMD_PENDING,
	};
	struct ivr_run_opts ro = {.speed = (unsigned)speed};
	err = ivr_run_alloc(&s.run, flow, &ci, &sim_ops, &s, &ro);
	if (err) {
		fprintf(stderr, "ccc ivr: cannot start the flow: %s\n", strerror(err));
		goto close;
	}
	for (size_t i = 0; i < n_stubs; i++)
		ivr_run_http_stub(s.run, stub_url[i], stub_status[i], stub_body[i]);

	printf("simulating ivr %llu \"%s\" (%s): caller %s, callee %s, speed x%lu\n",
	       (unsigned long long)ivr_flow_id(flow), ivr_flow_name(flow),
	       ivr_flow_type_name(ivr_flow_type(flow)), caller, callee, speed);
	s.t0 = clock_mono_ms();
	tmr_start(&s.limit_tmr, 600 * 1000, sim_limit, &s);
	ivr_run_start(s.run);
	if (amd != IVR_AMD_PENDING) {
		stamp(&s);
		printf("amd     %s%s\n", ivr_amd_name(amd), beep ? ", then the beep" : "");
		ivr_on_amd(s.run, amd);
		if (beep)
			ivr_on_beep(s.run);
	}
	if (!ivr_run_finished(s.run))
		re_main(NULL);

	final = ivr_run_vars_json(s.run);
	if (final) {
		json_t *arr = json_loads(final, 0, NULL), *v;
		size_t i;
		printf("variables:\n");
		json_array_foreach(arr, i, v) {
			printf("  %s = \"%s\"\n", json_string_value(json_object_get(v, "Key")),
			       json_string_value(json_object_get(v, "Value")));
		}
		json_decref(arr);
	}
	if (s.exit_code == 0)
		rc = 0;
	tmr_cancel(&s.play_tmr);
	tmr_cancel(&s.type_tmr);
	tmr_cancel(&s.end_tmr);
	tmr_cancel(&s.rec_tmr);
	tmr_cancel(&s.xfer_tmr);
	tmr_cancel(&s.limit_tmr);
	s.run = mem_deref(s.run);
 close:
	mem_deref(flow);
	wheel_close(); /* the run's timers' wheel, made on their first start */
	libre_close();
 out:
	free(final);
	free(vars_json);
	json_decref(vars);
	return rc;
}

int cli_ivr(int argc, char **argv)
{
	if (argc < 2)
		return ivr_usage();
	if (!strcmp(argv[1], "validate"))
		return cmd_validate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "simulate"))
		return cmd_simulate(argc - 1, argv + 1);
	return ivr_usage();
}
