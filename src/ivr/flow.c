/* ivr flow documents: JSON → the compiled flow, with a finding for every bad field. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sndfile.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_tmr.h>
#include <re_main.h>
#include "asr/asr.h"
#include "tz/tz.h"
#include "ivr/ivr_int.h"

#define NODES_MAX     200
#define NODES_PARSED  1000   /* beyond this the document is not even looked at */
#define TTS_MAX       500

struct parser {
	struct ivr_flow *flow;
	struct ivr_diag **dp;
	const struct ivr_flow_opts *opts;
	const char *nid;         /* the node being parsed, "" for the document */
};

#define ERR(p, field, ...) diag_add((p)->dp, (p)->nid, field, __VA_ARGS__)

static const char *const type_names[NODE_TYPE_COUNT] = {
	[NODE_START] = "start", [NODE_PROMPT] = "prompt", [NODE_MENU] = "menu",
	[NODE_COLLECT] = "collect", [NODE_CONDITION] = "condition", [NODE_SETVAR] = "setVar",
	[NODE_HOURS] = "businessHours", [NODE_HTTP] = "http",
	[NODE_TRANSFER_SKILL] = "transferSkillGroup", [NODE_TRANSFER_AGENT] = "transferAgent",
	[NODE_TRANSFER_EXT] = "transferExternal", [NODE_VOICEMAIL] = "voicemail",
	[NODE_SURVEY] = "survey", [NODE_HANGUP] = "hangup", [NODE_SPEECH] = "speech",
	[NODE_AMD] = "amd", [NODE_WAIT_BEEP] = "waitBeep",
};

/* Node-level exits each type has; `true` = required. */
struct exit_spec {
	const char *name;
	int kind;
	bool required;
};

static const struct exit_spec exits_next[] = {{"next", EDGE_NEXT, true}, {NULL, 0, false}};
static const struct exit_spec exits_menu[] = {
	{"onTimeout", EDGE_TIMEOUT, true}, {"onInvalid", EDGE_INVALID, true}, {NULL, 0, false}};
static const struct exit_spec exits_collect[] = {
	{"next", EDGE_NEXT, true}, {"onFail", EDGE_FAIL, true}, {NULL, 0, false}};
static const struct exit_spec exits_cond[] = {{"else", EDGE_ELSE, true}, {NULL, 0, false}};
static const struct exit_spec exits_hours[] = {
	{"open", EDGE_OPEN, true}, {"closed", EDGE_CLOSED, true}, {NULL, 0, false}};
static const struct exit_spec exits_http[] = {
	{"next", EDGE_NEXT, true}, {"onError", EDGE_ERROR, false}, {NULL, 0, false}};
static const struct exit_spec exits_transfer[] = {{"onFail", EDGE_FAIL, true}, {NULL, 0, false}};
static const struct exit_spec exits_amd[] = {
	{"human", EDGE_HUMAN, true}, {"machine", EDGE_MACHINE, true},
	{"unsure", EDGE_UNSURE, true}, {NULL, 0, false}};
static const struct exit_spec exits_beep[] = {
	{"next", EDGE_NEXT, true}, {"onTimeout", EDGE_TIMEOUT, true}, {NULL, 0, false}};
static const struct exit_spec exits_none[] = {{NULL, 0, false}};

static const struct exit_spec *const type_exits[NODE_TYPE_COUNT] = {
	[NODE_START] = exits_next, [NODE_PROMPT] = exits_next, [NODE_MENU] = exits_menu,
	[NODE_COLLECT] = exits_collect, [NODE_CONDITION] = exits_cond,
	[NODE_SETVAR] = exits_next, [NODE_HOURS] = exits_hours, [NODE_HTTP] = exits_http,
	[NODE_TRANSFER_SKILL] = exits_transfer, [NODE_TRANSFER_AGENT] = exits_transfer,
	[NODE_TRANSFER_EXT] = exits_transfer, [NODE_VOICEMAIL] = exits_next,
	[NODE_SURVEY] = exits_next, [NODE_HANGUP] = exits_none, [NODE_SPEECH] = exits_collect,
	[NODE_AMD] = exits_amd, [NODE_WAIT_BEEP] = exits_beep,
};

/* ---- small field readers -------------------------------------------------------- */

static bool allowed(const char *key, const char *const *keys)
{
	for (; *keys; keys++) {
		if (!strcmp(key, *keys))
			return true;
	}
	return false;
}

/* Every key of `obj` not in `keys` is a finding: a misspelt setting must not silently
 * take its default. */
static void check_keys(struct parser *p, json_t *obj, const char *prefix,
		       const char *const *keys)
{
	const char *k;
	json_t *v;
	char f[96];

	json_object_foreach(obj, k, v) {
		if (allowed(k, keys))
			continue;
		snprintf(f, sizeof(f), "%s%s", prefix, k);
		ERR(p, f, "unknown field");
	}
}

static void fname(char *f, size_t sz, const char *prefix, const char *key)
{
	snprintf(f, sz, "%s%s", prefix, key);
}

static const char *get_str(struct parser *p, json_t *obj, const char *prefix, const char *key,
			   bool required, size_t maxlen)
{
	json_t *v = json_object_get(obj, key);
	char f[96];

	fname(f, sizeof(f), prefix, key);
	if (!v || json_is_null(v)) {
		if (required)
			ERR(p, f, "missing");
		return NULL;
	}
	if (!json_is_string(v)) {
		ERR(p, f, "must be a string");
		return NULL;
	}
	if (maxlen && json_string_length(v) > maxlen) {
		ERR(p, f, "longer than %zu characters", maxlen);
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		ERR(p, f, "contains a NUL character");
		return NULL;
	}
	return json_string_value(v);
}

static unsigned get_uint(struct parser *p, json_t *obj, const char *prefix, const char *key,
			 unsigned def, unsigned min, unsigned max)
{
	json_t *v = json_object_get(obj, key);
	char f[96];

	fname(f, sizeof(f), prefix, key);
	if (!v || json_is_null(v))
		return def;
	if (!json_is_integer(v)) {
		ERR(p, f, "must be an integer");
		return def;
	}
	json_int_t i = json_integer_value(v);
	if (i < (json_int_t)min || i > (json_int_t)max) {
		ERR(p, f, "%lld is out of range %u-%u", (long long)i, min, max);
		return def;
	}
	return (unsigned)i;
}

static bool get_bool(struct parser *p, json_t *obj, const char *prefix, const char *key,
		     bool def)
{
	json_t *v = json_object_get(obj, key);
	char f[96];

	if (!v || json_is_null(v))
		return def;
	if (!json_is_boolean(v)) {
		fname(f, sizeof(f), prefix, key);
		ERR(p, f, "must be true or false");
		return def;
	}
	return json_is_true(v);
}

static bool key_char_ok(char c)
{
	return (c >= '0' && c <= '9') || c == '*' || c == '#';
}

/* A DTMF key: one of 0-9 * #. `none_ok`: "" means no key (returns 0). */
static char get_key(struct parser *p, json_t *obj, const char *prefix, const char *key,
		    char def, bool none_ok)
{
	json_t *v = json_object_get(obj, key);
	char f[96];
	const char *s;

	if (!v || json_is_null(v))
		return def;
	fname(f, sizeof(f), prefix, key);
	if (!json_is_string(v)) {
		ERR(p, f, "must be a string with one key of 0-9 * #");
		return def;
	}
	s = json_string_value(v);
	if (!*s && none_ok)
		return 0;
	if (strlen(s) != 1 || !key_char_ok(s[0])) {
		ERR(p, f, "'%s' is not one key of 0-9 * #%s", s, none_ok ? " (or \"\" for none)" : "");
		return def;
	}
	return s[0];
}

/* Variable names as templates accept them; `System` names are reserved. */
static bool var_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63)
		return false;
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.'))
			return false;
	}
	return true;
}

static const char *get_var(struct parser *p, json_t *obj, const char *prefix, const char *key,
			   bool required, bool settable)
{
	const char *s = get_str(p, obj, prefix, key, required, 63);
	char f[96];

	if (!s)
		return NULL;
	fname(f, sizeof(f), prefix, key);
	if (!var_name_ok(s)) {
		ERR(p, f, "'%s' is not a variable name (letters, digits, _ and ., not starting with "
		    "a digit)", s);
		return NULL;
	}
	if (settable && !strncmp(s, "System", 6)) {
		ERR(p, f, "'%s': System variables cannot be set by a flow", s);
		return NULL;
	}
	return s;
}

/* ---- prompts --------------------------------------------------------------------- */

static void check_wav(struct parser *p, const char *f, const char *path)
{
	SF_INFO info = {0};
	SNDFILE *sf;
	struct stat st;

	if (stat(path, &st) != 0) {
		ERR(p, f, "prompt file '%s' %s", path, errno == ENOENT ? "does not exist" :
		    "cannot be examined");
		return;
	}
	/* Only regular files: opening a FIFO or a device could block the loader. */
	if (!S_ISREG(st.st_mode)) {
		ERR(p, f, "prompt file '%s' is not a regular file", path);
		return;
	}
	if (access(path, R_OK) != 0) {
		ERR(p, f, "prompt file '%s' is not readable", path);
		return;
	}
	sf = sf_open(path, SFM_READ, &info);
	if (!sf) {
		ERR(p, f, "prompt file '%s' is not an audio file (%s)", path, sf_strerror(NULL));
		return;
	}
	if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_WAV) {
		ERR(p, f, "prompt file '%s' is not a WAV file", path);
	}
	else if (info.frames <= 0 || info.samplerate <= 0 || info.channels <= 0) {
		ERR(p, f, "prompt file '%s' has no audio", path);
	}
	sf_close(sf);
}

/* A prompt uploaded with UploadIvrAudio, named by `fileId` or `customFileName`: its path
 * under the prompt folder into buf, through the owner's handler (the store knows the
 * instance's files). NULL when the prompt names none, or names one that is unknown (then
 * with a finding). */
static const char *uploaded_file(struct parser *p, json_t *obj, const char *prefix,
				 char *buf, size_t sz)
{
	json_t *id = json_object_get(obj, "fileId");
	const char *alias = get_str(p, obj, prefix, "customFileName", false, 255);
	const char *key = id ? "fileId" : "customFileName";
	char f[96];
	int err;

	if (!id && !alias)
		return NULL;
	fname(f, sizeof(f), prefix, key);
	if (id && alias) {
		ERR(p, f, "give either fileId or customFileName, not both");
		return NULL;
	}
	if (id && (!json_is_integer(id) || json_integer_value(id) < 1)) {
		ERR(p, f, "must be a positive integer");
		return NULL;
	}
	if (!p->opts || !p->opts->audio) {
		ERR(p, f, "uploaded prompts cannot be used here");
		return NULL;
	}
	err = p->opts->audio(id ? (uint64_t)json_integer_value(id) : 0, alias, buf, sz,
			     p->opts->audio_arg);
	if (err == ENOENT) {
		if (id)
			ERR(p, f, "no uploaded file has id %lld", (long long)json_integer_value(id));
		else
			ERR(p, f, "no uploaded file is called '%s'", alias);
		return NULL;
	}
	if (err) {
		ERR(p, f, "the uploaded files cannot be read (%s)", strerror(err));
		return NULL;
	}
	return buf;
}

static void parse_prompt_obj(struct parser *p, json_t *obj, const char *prefix,
			     struct prompt_def *pd, bool text_only_keys)
{
	static const char *const keys[] = {"tts", "file", "fileId", "customFileName", "lang",
					   NULL};
	const char *file, *up;
	char f[96], upath[256];

	if (!text_only_keys)
		check_keys(p, obj, prefix, keys);
	snprintf(pd->where, sizeof(pd->where), "%s", prefix);
	pd->tts = get_str(p, obj, prefix, "tts", false, TTS_MAX);
	file = get_str(p, obj, prefix, "file", false, 400);
	pd->lang = get_str(p, obj, prefix, "lang", false, 15);
	if ((json_object_get(obj, "fileId") || json_object_get(obj, "customFileName")) &&
	    (json_object_get(obj, "tts") || json_object_get(obj, "file"))) {
		fname(f, sizeof(f), prefix, json_object_get(obj, "fileId") ? "fileId"
					    : "customFileName");
		ERR(p, f, "give one of tts, file, fileId or customFileName");
		return;
	}
	up = uploaded_file(p, obj, prefix, upath, sizeof(upath));
	if (up)
		file = up;
	else if (json_object_get(obj, "fileId") || json_object_get(obj, "customFileName"))
		return;
	if (pd->tts && file) {
		fname(f, sizeof(f), prefix, "file");
		ERR(p, f, "give either tts or file, not both");
		return;
	}
	if (!pd->tts && !file) {
		fname(f, sizeof(f), prefix, "tts");
		if (!json_object_get(obj, "tts") && !json_object_get(obj, "file"))
			ERR(p, f, "a prompt needs tts text or a file");
		return;
	}
	if (pd->tts && !*pd->tts) {
		fname(f, sizeof(f), prefix, "tts");
		ERR(p, f, "empty text");
		return;
	}
	pd->set = true;
	if (!file)
		return;
	fname(f, sizeof(f), prefix, "file");
	if (!*file) {
		ERR(p, f, "empty file name");
		pd->set = false;
		return;
	}
	/* Prompts live under the prompt folder: no absolute paths, no way out with "..". A
	 * flow therefore cannot point the loader at /proc or /dev files that block. */
	if (file[0] == '/' || !strcmp(file, "..") || !strncmp(file, "../", 3) ||
	    strstr(file, "/../") || (strlen(file) >= 3 && !strcmp(file + strlen(file) - 3, "/.."))) {
		ERR(p, f, "'%s' must be a path inside the prompt folder (relative, without ..)",
		    file);
		pd->set = false;
		return;
	}
	if (!p->opts || !p->opts->prompt_dir || !*p->opts->prompt_dir)
		re_sdprintf(&pd->file, "%s", file);
	else
		re_sdprintf(&pd->file, "%s/%s", p->opts->prompt_dir, file);
	if (!pd->file) {
		ERR(p, f, "out of memory");
		pd->set = false;
		return;
	}
	check_wav(p, f, pd->file);
}

/* A prompt given as a sub-object `key` of `params`. */
static void get_prompt(struct parser *p, json_t *params, const char *key, struct prompt_def *pd,
		       bool required)
{
	json_t *v = json_object_get(params, key);
	char f[96], prefix[96];

	fname(f, sizeof(f), "params.", key);
	if (!v || json_is_null(v)) {
		if (required)
			ERR(p, f, "missing");
		return;
	}
	if (!json_is_object(v)) {
		ERR(p, f, "must be an object with tts or file");
		return;
	}
	snprintf(prefix, sizeof(prefix), "params.%s.", key);
	parse_prompt_obj(p, v, prefix, pd, false);
}

/* ---- edges ----------------------------------------------------------------------- */

static int add_edge(struct parser *p, struct node *n, const char *field, int kind, int index,
		    json_t *v, bool required)
{
	struct edge *e;

	if (!v || json_is_null(v)) {
		if (required)
			ERR(p, field, "missing (the %s exit must lead to a node)", field);
		return -1;
	}
	if (!json_is_string(v) || !json_string_length(v)) {
		ERR(p, field, "must be a node id");
		return -1;
	}
	e = mem_reallocarray(n->edges, n->n_edges + 1, sizeof(*e), NULL);
	if (!e) {
		ERR(p, field, "out of memory");
		return -1;
	}
	n->edges = e;
	e = &n->edges[n->n_edges];
	memset(e, 0, sizeof(*e));
	snprintf(e->field, sizeof(e->field), "%s", field);
	e->to_id = json_string_value(v);
	e->to = -1;
	e->kind = kind;
	e->index = index;
	return (int)n->n_edges++;
}

/* ---- per-type params ------------------------------------------------------------- */

static void parse_keys_menu(struct parser *p, struct node *n, json_t *keys, bool survey)
{
	const char *k;
	json_t *v;
	char f[96];

	if (!keys) {
		ERR(p, "params.keys", "missing");
		return;
	}
	if (!json_is_object(keys) || !json_object_size(keys)) {
		ERR(p, "params.keys", "must be an object with at least one key");
		return;
	}
	json_object_foreach(keys, k, v) {
		struct menu_key *mk;
		char prefix[96];

		snprintf(f, sizeof(f), "params.keys.%s", k);
		if (strlen(k) != 1 || !key_char_ok(k[0])) {
			ERR(p, f, "'%s' is not one key of 0-9 * #", k);
			continue;
		}
		if (n->n_keys >= sizeof(n->keys) / sizeof(n->keys[0]))
			break;
		mk = &n->keys[n->n_keys];
		mk->key = k[0];
		mk->edge = -1;
		mk->label = "";
		snprintf(prefix, sizeof(prefix), "params.keys.%s.", k);
		if (survey) {
			if (!json_is_string(v)) {
				ERR(p, f, "must be the label of the answer (a string)");
				continue;
			}
			if (json_string_length(v) > 63) {
				ERR(p, f, "label longer than 63 characters");
				continue;
			}
			mk->label = json_string_value(v);
		}
		else {
			static const char *const kk[] = {"label", "next", NULL};
			const char *label;

			if (!json_is_object(v)) {
				ERR(p, f, "must be an object {\"label\", \"next\"}");
				continue;
			}
			check_keys(p, v, prefix, kk);
			label = get_str(p, v, prefix, "label", false, 63);
			mk->label = label ? label : "";
			snprintf(f, sizeof(f), "params.keys.%s.next", k);
			mk->edge = add_edge(p, n, f, EDGE_KEY, k[0], json_object_get(v, "next"), true);
		}
		n->n_keys++;
	}
}

static void parse_menu(struct parser *p, struct node *n, json_t *pa, bool survey)
{
	static const char *const keys[] = {"prompt", "timeoutMs", "retries", "timeoutPrompt",
					   "invalidPrompt", "interruptible", "keys", NULL};

	check_keys(p, pa, "params.", keys);
	get_prompt(p, pa, "prompt", &n->prompt, true);
	get_prompt(p, pa, "timeoutPrompt", &n->timeout_prompt, false);
	get_prompt(p, pa, "invalidPrompt", &n->invalid_prompt, false);
	n->timeout_ms = get_uint(p, pa, "params.", "timeoutMs", 5000, 1000, 30000);
	n->retries = get_uint(p, pa, "params.", "retries", 2, 0, 9);
	n->interruptible = get_bool(p, pa, "params.", "interruptible", true);
	parse_keys_menu(p, n, json_object_get(pa, "keys"), survey);
}

static void parse_collect(struct parser *p, struct node *n, json_t *pa)
{
	static const char *const keys[] = {"prompt", "var", "minLen", "maxLen", "terminator",
					   "firstDigitTimeoutMs", "interDigitTimeoutMs", "retries",
					   "timeoutPrompt", "invalidPrompt", "interruptible",
					   "confirm", NULL};
	json_t *c;

	check_keys(p, pa, "params.", keys);
	get_prompt(p, pa, "prompt", &n->prompt, true);
	get_prompt(p, pa, "timeoutPrompt", &n->timeout_prompt, false);
	get_prompt(p, pa, "invalidPrompt", &n->invalid_prompt, false);
	n->var = get_var(p, pa, "params.", "var", true, true);
	n->min_len = get_uint(p, pa, "params.", "minLen", 1, 1, 32);
	n->max_len = get_uint(p, pa, "params.", "maxLen", 32, 1, 32);
	if (n->min_len > n->max_len)
		ERR(p, "params.minLen", "minLen %u is greater than maxLen %u", n->min_len,
		    n->max_len);
	n->terminator = get_key(p, pa, "params.", "terminator", '#', true);
	n->first_ms = get_uint(p, pa, "params.", "firstDigitTimeoutMs", 5000, 1000, 30000);
	n->inter_ms = get_uint(p, pa, "params.", "interDigitTimeoutMs", 3000, 1000, 30000);
	n->retries = get_uint(p, pa, "params.", "retries", 2, 0, 9);
	n->interruptible = get_bool(p, pa, "params.", "interruptible", true);

	c = json_object_get(pa, "confirm");
	if (!c || json_is_null(c))
		return;
	if (!json_is_object(c)) {
		ERR(p, "params.confirm", "must be an object {prompt, confirmKey, reenterKey}");
		return;
	}
	static const char *const ck[] = {"prompt", "confirmKey", "reenterKey", "timeoutMs", NULL};
	check_keys(p, c, "params.confirm.", ck);
	n->confirm = true;
	{
		json_t *pr = json_object_get(c, "prompt");
		if (!pr)
			ERR(p, "params.confirm.prompt", "missing");
		else if (!json_is_object(pr))
			ERR(p, "params.confirm.prompt", "must be an object with tts or file");
		else
			parse_prompt_obj(p, pr, "params.confirm.prompt.", &n->confirm_prompt, false);
	}
	n->confirm_key = get_key(p, c, "params.confirm.", "confirmKey", '1', false);
	n->reenter_key = get_key(p, c, "params.confirm.", "reenterKey", '2', false);
	if (n->confirm_key == n->reenter_key)
		ERR(p, "params.confirm.reenterKey", "must differ from confirmKey");
	n->timeout_ms = get_uint(p, c, "params.confirm.", "timeoutMs", 5000, 1000, 30000);
}

static void parse_condition(struct parser *p, struct node *n, json_t *pa)
{
	static const char *const keys[] = {"cases", NULL};
	json_t *cases = json_object_get(pa, "cases"), *c;
	size_t i;
	char f[96], prefix[96];

	check_keys(p, pa, "params.", keys);
	if (!cases) {
		ERR(p, "params.cases", "missing");
		return;
	}
	if (!json_is_array(cases) || !json_array_size(cases) || json_array_size(cases) > 64) {
		ERR(p, "params.cases", "must be an array of 1-64 cases");
		return;
	}
	n->cases = mem_zalloc(json_array_size(cases) * sizeof(*n->cases), NULL);
	if (!n->cases) {
		ERR(p, "params.cases", "out of memory");
		return;
	}
	json_array_foreach(cases, i, c) {
		static const char *const ck[] = {"if", "next", NULL};
		static const char *const ik[] = {"var", "op", "value", NULL};
		struct cond_case *cc = &n->cases[n->n_cases];
		json_t *iff;
		const char *op;

		snprintf(f, sizeof(f), "params.cases.%zu", i);
		if (!json_is_object(c)) {
			ERR(p, f, "must be an object {\"if\", \"next\"}");
			continue;
		}
		snprintf(prefix, sizeof(prefix), "params.cases.%zu.", i);
		check_keys(p, c, prefix, ck);
		snprintf(f, sizeof(f), "params.cases.%zu.next", i);
		cc->edge = add_edge(p, n, f, EDGE_CASE, (int)i, json_object_get(c, "next"), true);
		iff = json_object_get(c, "if");
		snprintf(f, sizeof(f), "params.cases.%zu.if", i);
		if (!iff || !json_is_object(iff)) {
			ERR(p, f, iff ? "must be an object {var, op, value}" : "missing");
			continue;
		}
		snprintf(prefix, sizeof(prefix), "params.cases.%zu.if.", i);
		check_keys(p, iff, prefix, ik);
		cc->var = get_var(p, iff, prefix, "var", true, false);
		op = get_str(p, iff, prefix, "op", true, 16);
		cc->value = get_str(p, iff, prefix, "value", false, TTS_MAX);
		if (!cc->value)
			cc->value = "";
		if (op && cond_op_parse(op, &cc->op)) {
			snprintf(f, sizeof(f), "params.cases.%zu.if.op", i);
			ERR(p, f, "unknown operator '%s' (eq ne contains prefix suffix lt gt le ge "
			    "empty notEmpty in)", op);
			continue;
		}
		if (!cc->var || !op)
			continue;
		n->n_cases++;
	}
}

static void parse_setvar(struct parser *p, struct node *n, json_t *pa)
{
	static const char *const keys[] = {"assign", "add", NULL};
	json_t *as = json_object_get(pa, "assign"), *ad = json_object_get(pa, "add"), *v;
	size_t cap = 0;
	const char *k;
	char f[96];

	check_keys(p, pa, "params.", keys);
	if (as && !json_is_object(as)) {
		ERR(p, "params.assign", "must be an object {variable: template}");
		as = NULL;
	}
	if (ad && !json_is_object(ad)) {
		ERR(p, "params.add", "must be an object {variable: number}");
		ad = NULL;
	}
	cap = (as ? json_object_size(as) : 0) + (ad ? json_object_size(ad) : 0);
	if (!cap) {
		ERR(p, "params.assign", "a setVar node needs at least one assign or add");
		return;
	}
	n->assigns = mem_zalloc(cap * sizeof(*n->assigns), NULL);
	if (!n->assigns) {
		ERR(p, "params.assign", "out of memory");
		return;
	}
	if (as) {
		json_object_foreach(as, k, v) {
			struct assign *a = &n->assigns[n->n_assigns];
			snprintf(f, sizeof(f), "params.assign.%s", k);
			if (!var_name_ok(k) || !strncmp(k, "System", 6)) {
				ERR(p, f, "'%s' is not a settable variable name", k);
				continue;
			}
			if (!json_is_string(v) || json_string_length(v) > TTS_MAX) {
				ERR(p, f, "must be a string (a template) of at most %d characters",
				    TTS_MAX);
				continue;
			}
			a->var = k;
			a->value = json_string_value(v);
			n->n_assigns++;
		}
	}
	if (ad) {
		json_object_foreach(ad, k, v) {
			struct assign *a = &n->assigns[n->n_assigns];
			snprintf(f, sizeof(f), "params.add.%s", k);
			if (!var_name_ok(k) || !strncmp(k, "System", 6)) {
				ERR(p, f, "'%s' is not a settable variable name", k);
				continue;
			}
			if (!json_is_number(v)) {
				ERR(p, f, "must be a number");
				continue;
			}
			a->var = k;
			a->add = json_number_value(v);
			a->is_add = true;
			n->n_assigns++;
		}
	}
}

/* A day of a window: a name or range ("mon", "Mon-Fri") or an ISO number 1-7 (hours.h). */
static int parse_day(json_t *v, uint8_t *bits)
{
	if (json_is_integer(v))
		return hours_day_iso(json_integer_value(v), bits);
	return json_is_string(v) ? hours_days_parse(json_string_value(v), bits) : EINVAL;
}

static void parse_hours(struct parser *p, struct node *n, json_t *pa)
{
	static const char *const keys[] = {"windows", "holidays", "timeZone", NULL};
	json_t *w = json_object_get(pa, "windows"), *h = json_object_get(pa, "holidays"), *v;
	const char *zone;
	size_t i;
	char f[96], prefix[96];
	int err;

	check_keys(p, pa, "params.", keys);
	zone = get_str(p, pa, "params.", "timeZone", false, 64);
	if (!zone && !json_object_get(pa, "timeZone")) {
		zone = json_string_value(json_object_get(p->flow->doc, "timeZone"));
		if (!zone)
			zone = "UTC";
	}
	if (zone) {
		err = tz_load(&n->tz, zone);
		if (err)
			ERR(p, "params.timeZone", "time zone '%s' %s", zone,
			    err == ENOENT ? "is unknown" : "cannot be loaded");
	}

	if (!w) {
		ERR(p, "params.windows", "missing");
	}
	else if (!json_is_array(w) || !json_array_size(w) ||
		 json_array_size(w) > sizeof(n->windows) / sizeof(n->windows[0])) {
		ERR(p, "params.windows", "must be an array of 1-%zu windows",
		    sizeof(n->windows) / sizeof(n->windows[0]));
	}
	else json_array_foreach(w, i, v) {
		static const char *const wk[] = {"days", "start", "end", NULL};
		struct hours_window *hw = &n->windows[n->n_windows];
		json_t *days, *d;
		const char *s, *e;
		size_t j;
		bool ok = true;
		int bad_start, bad_end;

		snprintf(f, sizeof(f), "params.windows.%zu", i);
		if (!json_is_object(v)) {
			ERR(p, f, "must be an object {days, start, end}");
			continue;
		}
		snprintf(prefix, sizeof(prefix), "params.windows.%zu.", i);
		check_keys(p, v, prefix, wk);
		days = json_object_get(v, "days");
		snprintf(f, sizeof(f), "params.windows.%zu.days", i);
		if (!days || !json_is_array(days) || !json_array_size(days)) {
			ERR(p, f, "must be a non-empty array of days (\"mon\".. \"sun\" or 1-7)");
			ok = false;
		}
		else json_array_foreach(days, j, d) {
			if (parse_day(d, &hw->days)) {
				snprintf(f, sizeof(f), "params.windows.%zu.days.%zu", i, j);
				ERR(p, f, "not a day (\"mon\".. \"sun\", a range \"mon-fri\" or "
				    "1-7)");
				ok = false;
			}
		}
		s = get_str(p, v, prefix, "start", true, 8);
		e = get_str(p, v, prefix, "end", true, 8);
		if (!s || !e)
			continue;
		bad_start = hours_time_parse(s, false, &hw->start);
		bad_end = hours_time_parse(e, true, &hw->end);
		if (bad_start) {
			snprintf(f, sizeof(f), "params.windows.%zu.start", i);
			ERR(p, f, "'%s' is not a time HH:MM or HH:MM:SS", s);
			ok = false;
		}
		if (bad_end) {
			snprintf(f, sizeof(f), "params.windows.%zu.end", i);
			ERR(p, f, "'%s' is not a time HH:MM or HH:MM:SS (24:00 allowed)", e);
			ok = false;
		}
		if (!bad_start && !bad_end && hw->start >= hw->end) {
			snprintf(f, sizeof(f), "params.windows.%zu.end", i);
			ERR(p, f, "end %s is not after start %s (split a window that crosses "
			    "midnight in two)", e, s);
			ok = false;
		}
		if (ok)
			n->n_windows++;
	}

	if (!h || json_is_null(h))
		return;
	if (!json_is_array(h) || json_array_size(h) > 366) {
		ERR(p, "params.holidays", "must be an array of at most 366 dates YYYY-MM-DD");
		return;
	}
	n->holidays = mem_zalloc((json_array_size(h) + 1) * sizeof(*n->holidays), NULL);
	if (!n->holidays) {
		ERR(p, "params.holidays", "out of memory");
		return;
	}
	json_array_foreach(h, i, v) {
		const char *s = json_string_value(v);

		snprintf(f, sizeof(f), "params.holidays.%zu", i);
		if (!s || hours_date_parse(s, &n->holidays[n->n_holidays])) {
			ERR(p, f, "not a date YYYY-MM-DD");
			continue;
		}
		n->n_holidays++;
	}
	hours_dates_sort(n->holidays, n->n_holidays);
}

static struct http_kv *parse_kv(struct parser *p, json_t *obj, const char *field, size_t *np,
				bool header)
{
	struct http_kv *kv;
	const char *k;
	json_t *v;
	char f[128];

	if (!obj || json_is_null(obj))
		return NULL;
	if (!json_is_object(obj) || json_object_size(obj) > 64) {
		ERR(p, field, "must be an object of at most 64 {name: template string}");
		return NULL;
	}
	kv = mem_zalloc((json_object_size(obj) + 1) * sizeof(*kv), NULL);
	if (!kv) {
		ERR(p, field, "out of memory");
		return NULL;
	}
	json_object_foreach(obj, k, v) {
		snprintf(f, sizeof(f), "%s.%s", field, k);
		if (!json_is_string(v) || json_string_length(v) > 2000 ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			ERR(p, f, "must be a string (a template) of at most 2000 characters");
			continue;
		}
		if (header && (!*k || strpbrk(k, ": \t\r\n") ||
			       strpbrk(json_string_value(v), "\r\n"))) {
			ERR(p, f, "not a valid header (name without ':' or blanks, value on one "
			    "line)");
			continue;
		}
		kv[*np].name = k;
		kv[*np].value = json_string_value(v);
		(*np)++;
	}
	return kv;
}

/* http:// to this machine never crosses a network, so the https rule does not apply. */
static bool url_loopback(const char *url)
{
	const char *h = url + 7;   /* after "http://" */
	size_t n;

	if (strchr(h, '@'))
		return false;
	if (!strncmp(h, "[::1]", 5))
		return h[5] == '\0' || h[5] == ':' || h[5] == '/';
	n = strcspn(h, ":/?#");
	if (n == 9 && !strncasecmp(h, "localhost", 9))
		return true;
	if (strncmp(h, "127.", 4))
		return false;
	for (size_t i = 4; i < n; i++) {
		if (!((h[i] >= '0' && h[i] <= '9') || h[i] == '.'))
			return false;
	}
	return true;
}

/* params.url of an HTTP or speech node: https://, or plain http:// to this machine (or
 * anywhere when the operator allows it). NULL when missing or refused. */
static const char *get_url(struct parser *p, json_t *pa)
{
	const char *url = get_str(p, pa, "params.", "url", true, 2000);
	bool https, http;

	if (!url)
		return NULL;
	https = !strncmp(url, "https://", 8);
	http = !strncmp(url, "http://", 7);
	if (!https && !http) {
		ERR(p, "params.url", "must start with https://");
		return NULL;
	}
	if (http && !url_loopback(url) && !(p->opts && p->opts->allow_plain_http)) {
		ERR(p, "params.url", "must be https:// (plain http:// only to this machine, "
		    "unless allowed)");
		return NULL;
	}
	return url;
}

static void parse_http(struct parser *p, struct node *n, json_t *pa)
{
	static const char *const keys[] = {"url", "method", "headers", "timeoutMs", "maxErrors",
					   "request", "body", "outputs", NULL};
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
	json_t *outs = json_object_get(pa, "outputs"), *v;
	const char *k;
	char f[96];

	check_keys(p, pa, "params.", keys);
	n->url = get_url(p, pa);
	n->method = get_str(p, pa, "params.", "method", false, 8);
	if (!n->method)
		n->method = "POST";
	else if (!allowed(n->method, methods))
		ERR(p, "params.method", "'%s' is not one of GET POST PUT PATCH DELETE", n->method);
	n->headers = parse_kv(p, json_object_get(pa, "headers"), "params.headers", &n->n_headers,
			      true);
	n->request = parse_kv(p, json_object_get(pa, "request"), "params.request", &n->n_request,
			      false);
	n->body = get_str(p, pa, "params.", "body", false, 8000);
	if (n->body && json_object_get(pa, "request"))
		ERR(p, "params.body", "give either body or request, not both");
	if ((n->body || n->n_request) && !strcmp(n->method, "GET"))
		ERR(p, "params.method", "a GET request cannot have a body");
	n->timeout_ms = get_uint(p, pa, "params.", "timeoutMs", 5000, 1000, 30000);
	n->max_errors = get_uint(p, pa, "params.", "maxErrors", 1, 1, 5);

	if (!outs || json_is_null(outs))
		return;
	if (!json_is_object(outs) || json_object_size(outs) > 64) {
		ERR(p, "params.outputs", "must be an object of at most 64 {variable: {path, "
		    "default}}");
		return;
	}
	n->outputs = mem_zalloc((json_object_size(outs) + 1) * sizeof(*n->outputs), NULL);
	if (!n->outputs) {
		ERR(p, "params.outputs", "out of memory");
		return;
	}
	json_object_foreach(outs, k, v) {
		static const char *const ok[] = {"path", "default", NULL};
		struct http_out *o = &n->outputs[n->n_outputs];
		char prefix[96];

		snprintf(f, sizeof(f), "params.outputs.%s", k);
		if (!var_name_ok(k) || !strncmp(k, "System", 6)) {
			ERR(p, f, "'%s' is not a settable variable name", k);
			continue;
		}
		if (!json_is_object(v)) {
			ERR(p, f, "must be an object {path, default}");
			continue;
		}
		snprintf(prefix, sizeof(prefix), "params.outputs.%s.", k);
		check_keys(p, v, prefix, ok);
		o->var = k;
		o->path = get_str(p, v, prefix, "path", true, 200);
		o->def = get_str(p, v, prefix, "default", false, TTS_MAX);
		if (!o->def)
			o->def = "";
		if (!o->path)
			continue;
		if (!*o->path || o->path[0] == '.' || o->path[strlen(o->path) - 1] == '.' ||
		    strstr(o->path, "..")) {
			snprintf(f, sizeof(f), "params.outputs.%s.path", k);
			ERR(p, f, "'%s' is not a dot path like data.level", o->path);
			continue;
		}
		n->n_outputs++;
	}
}

/* Notes a surveyIvrId once, for the owner to load and attach. */
static void survey_note(struct parser *p, uint64_t id)
{
	struct ivr_flow *flow = p->flow;

	if (!id)
		return;
	for (size_t i = 0; i < flow->n_surveys; i++) {
		if (flow->survey_ids[i] == id)
			return;
	}
	if (flow->n_surveys == IVR_SURVEYS_MAX) {
		ERR(p, "params.surveyIvrId", "a flow may name at most %d survey IVRs",
		    IVR_SURVEYS_MAX);
		return;
	}
	flow->survey_ids[flow->n_surveys++] = id;
}

/* A node id or an intent name: 1-63 of A-Z a-z 0-9 _ - . (compared, never rendered). */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* A local speech node's "phrases": {intent: [phrase, ...]} into a keyword grammar. */
static void parse_phrases(struct parser *p, struct node *n, json_t *ph)
{
	struct asr_phrase v[256];
	json_t *list, *e;
	const char *k;
	size_t n_v = 0, i;
	char f[128];
	int err;

	if (!json_is_object(ph) || !json_object_size(ph)) {
		ERR(p, "params.phrases", "must be an object {intent: [phrase, ...]} (grammar "
		    "keywords)");
		return;
	}
	json_object_foreach(ph, k, list) {
		snprintf(f, sizeof(f), "params.phrases.%.63s", k);
		if (!id_ok(k)) {
			ERR(p, f, "'%.64s' is not an intent name (1-63 of A-Z a-z 0-9 _ - .)", k);
			return;
		}
		if (!json_is_array(list) || !json_array_size(list)) {
			ERR(p, f, "must be a non-empty array of phrases");
			return;
		}
		json_array_foreach(list, i, e) {
			const char *t = json_string_value(e);
			struct asr_grammar *one = NULL;

			snprintf(f, sizeof(f), "params.phrases.%.63s.%zu", k, i);
			if (n_v == 256) {
				ERR(p, f, "more than 256 phrases");
				return;
			}
			v[n_v] = (struct asr_phrase){.intent = (char *)k, .text = (char *)t};
			if (!t || asr_grammar_keywords(&one, &v[n_v], 1)) {
				ERR(p, f, "a phrase is 1-8 lower-case words (a-z and ') separated by "
				    "single spaces");
				return;
			}
			mem_deref(one);
			n_v++;
		}
	}
	err = asr_grammar_keywords(&n->grammar, v, n_v);
	if (err)
		ERR(p, "params.phrases", "%s", strerror(err));
}

/* "engine": "local": the grammar, and what the URL recogniser's fields would say refused. */
static void parse_speech_local(struct parser *p, struct node *n, json_t *pa)
{
	static const char *const grammars[] = {"yesno", "digits", "keywords", NULL};
	static const char *const url_only[] = {"url", "headers", "timeoutMs", NULL};
	const char *g = get_str(p, pa, "params.", "grammar", true, 16);
	json_t *d = json_object_get(pa, "digits"), *ph = json_object_get(pa, "phrases");
	int kind = 0, err = 0;

	for (size_t i = 0; url_only[i]; i++) {
		char f[64];

		snprintf(f, sizeof(f), "params.%s", url_only[i]);
		if (json_object_get(pa, url_only[i]))
			ERR(p, f, "only for \"engine\": \"url\"");
	}
	for (size_t i = 0; g && grammars[i]; i++) {
		if (!strcmp(g, grammars[i]))
			kind = (int)i + 1;
	}
	if (g && !kind) {
		ERR(p, "params.grammar", "'%.16s' is not one of yesno, digits, keywords", g);
		return;
	}
	if (d && kind != ASR_DIGITS)
		ERR(p, "params.digits", "only with \"grammar\": \"digits\"");
	if (ph && kind != ASR_KEYWORDS)
		ERR(p, "params.phrases", "only with \"grammar\": \"keywords\"");
	switch (kind) {
	case ASR_YESNO:
		err = asr_grammar_yesno(&n->grammar);
		break;
	case ASR_DIGITS:
		if (d && !json_is_object(d)) {
			ERR(p, "params.digits", "must be an object {\"min\", \"max\"}");
			return;
		}
		{
			unsigned min = get_uint(p, d, "params.digits.", "min", 1, 1, 20);
			unsigned max = get_uint(p, d, "params.digits.", "max", 8, 1, 20);

			if (min > max) {
				ERR(p, "params.digits.max", "is less than min");
				return;
			}
			err = asr_grammar_digits(&n->grammar, min, max);
		}
		break;
	case ASR_KEYWORDS:
		if (!ph)
			ERR(p, "params.phrases", "missing (grammar keywords)");
		else
			parse_phrases(p, n, ph);
		break;
	default:
		return;
	}
	if (err)
		ERR(p, "params.grammar", "%s", strerror(err));
}

/* A local node's intents must be answers its grammar can give. */
static bool intent_possible(const struct node *n, const char *intent)
{
	if (!n->grammar)
		return true;
	switch (n->grammar->kind) {
	case ASR_YESNO:
		return !strcmp(intent, "yes") || !strcmp(intent, "no");
	case ASR_KEYWORDS:
		for (size_t i = 0; i < n->grammar->n_phrases; i++) {
			if (!strcmp(n->grammar->phrases[i].intent, intent))
				return true;
		}
		return false;
	default:
		return false;
	}
}

static void parse_speech(struct parser *p, struct node *n, json_t *pa)
{
	static const char *const keys[] = {"prompt", "url", "headers", "timeoutMs", "maxLenS",
					   "silenceMs", "endKey", "textVar", "intentVar",
					   "intents", "engine", "grammar", "digits", "phrases",
					   NULL};
	json_t *in = json_object_get(pa, "intents"), *v;
	const char *k, *engine;
	char f[96];

	check_keys(p, pa, "params.", keys);
	get_prompt(p, pa, "prompt", &n->prompt, true);
	engine = get_str(p, pa, "params.", "engine", false, 16);
	if (engine && strcmp(engine, "url") && strcmp(engine, "local"))
		ERR(p, "params.engine", "'%.16s' is not url or local", engine);
	else if (engine && !strcmp(engine, "local"))
		parse_speech_local(p, n, pa);
	else {
		static const char *const local_only[] = {"grammar", "digits", "phrases", NULL};

		for (size_t i = 0; local_only[i]; i++) {
			snprintf(f, sizeof(f), "params.%s", local_only[i]);
			if (json_object_get(pa, local_only[i]))
				ERR(p, f, "only for \"engine\": \"local\"");
		}
		n->url = get_url(p, pa);
		n->headers = parse_kv(p, json_object_get(pa, "headers"), "params.headers",
				      &n->n_headers, true);
		n->timeout_ms = get_uint(p, pa, "params.", "timeoutMs", 5000, 1000, 30000);
	}
	n->max_errors = 1;
	n->method = "POST";
	n->max_len_s = get_uint(p, pa, "params.", "maxLenS", 10, 1, 60);
	n->silence_ms = get_uint(p, pa, "params.", "silenceMs", 1500, 300, 10000);
	n->end_key = get_key(p, pa, "params.", "endKey", '#', true);
	n->var = get_var(p, pa, "params.", "textVar", false, true);
	if (!n->var && !json_object_get(pa, "textVar"))
		n->var = "SpeechText";
	n->intent_var = get_var(p, pa, "params.", "intentVar", false, true);
	if (!n->intent_var && !json_object_get(pa, "intentVar"))
		n->intent_var = "SpeechIntent";
	if (n->var && n->intent_var && !strcmp(n->var, n->intent_var))
		ERR(p, "params.intentVar", "'%s' is also the textVar", n->intent_var);

	if (!in || json_is_null(in))
		return;
	if (!json_is_object(in) || json_object_size(in) > 64) {
		ERR(p, "params.intents", "must be an object of at most 64 {intent: node id}");
		return;
	}
	n->cases = mem_zalloc((json_object_size(in) + 1) * sizeof(*n->cases), NULL);
	if (!n->cases) {
		ERR(p, "params.intents", "out of memory");
		return;
	}
	json_object_foreach(in, k, v) {
		struct cond_case *cc = &n->cases[n->n_cases];

		snprintf(f, sizeof(f), "params.intents.%s", k);
		if (!id_ok(k)) {
			ERR(p, f, "'%.64s' is not an intent name (1-63 of A-Z a-z 0-9 _ - .)", k);
			continue;
		}
		if (!intent_possible(n, k)) {
			ERR(p, f, "'%.64s' is not an answer of the grammar (%s)", k,
			    n->grammar->kind == ASR_YESNO ? "yes or no" :
			    n->grammar->kind == ASR_DIGITS ? "digits have no intent" :
			    "not in params.phrases");
			continue;
		}
		cc->edge = add_edge(p, n, f, EDGE_CASE, (int)n->n_cases, v, true);
		if (cc->edge < 0)
			continue;
		cc->var = n->intent_var ? n->intent_var : "SpeechIntent";
		cc->op = OP_EQ;
		cc->value = k;
		n->n_cases++;
	}
}

static void parse_transfer(struct parser *p, struct node *n, json_t *pa)
{
	static const char *const ks[] = {"skillGroupId", "destinations", "ringTimeoutS",
					 "maxWaitS", "queuePrompt", "surveyIvrId", NULL};
	static const char *const ka[] = {"agent", "ringTimeoutS", "holdPrompt", "surveyIvrId",
					 NULL};
	static const char *const ke[] = {"number", "callerNumber", "ringTimeoutS", "holdPrompt",
					 "surveyIvrId", NULL};
	json_t *d, *v;
	size_t i;
	char f[96];

	n->ring_timeout_s = get_uint(p, pa, "params.", "ringTimeoutS", 30, 5, 120);
	n->survey_ivr_id = get_uint(p, pa, "params.", "surveyIvrId", 0, 0, UINT_MAX);
	survey_note(p, n->survey_ivr_id);
	switch (n->type) {
	case NODE_TRANSFER_SKILL:
		check_keys(p, pa, "params.", ks);
		n->skill_group_id = get_uint(p, pa, "params.", "skillGroupId", 0, 0, UINT_MAX);
		n->max_wait_s = get_uint(p, pa, "params.", "maxWaitS", 120, 5, 3600);
		get_prompt(p, pa, "queuePrompt", &n->prompt, false);
		d = json_object_get(pa, "destinations");
		if (!d) {
			ERR(p, "params.destinations", "missing (the skill group's SIP destinations)");
			break;
		}
		if (!json_is_array(d) || !json_array_size(d) || json_array_size(d) > 32) {
			ERR(p, "params.destinations", "must be an array of 1-32 SIP URIs or numbers");
			break;
		}
		n->destinations = mem_zalloc(json_array_size(d) * sizeof(char *), NULL);
		if (!n->destinations) {
			ERR(p, "params.destinations", "out of memory");
			break;
		}
		json_array_foreach(d, i, v) {
			snprintf(f, sizeof(f), "params.destinations.%zu", i);
			if (!json_is_string(v) || !json_string_length(v) ||
			    json_string_length(v) > 256 || strpbrk(json_string_value(v), " \r\n")) {
				ERR(p, f, "must be a SIP URI or a number");
				continue;
			}
			n->destinations[n->n_destinations++] = json_string_value(v);
		}
		break;
	case NODE_TRANSFER_AGENT:
		check_keys(p, pa, "params.", ka);
		n->number = get_str(p, pa, "params.", "agent", true, 128);
		get_prompt(p, pa, "holdPrompt", &n->prompt, false);
		break;
	default:
		check_keys(p, pa, "params.", ke);
		n->number = get_str(p, pa, "params.", "number", true, 128);
		n->caller = get_str(p, pa, "params.", "callerNumber", false, 128);
		get_prompt(p, pa, "holdPrompt", &n->prompt, false);
		break;
	}
}

static const struct {
	const char *name;
	int code;
} end_statuses[] = {
	{"ok", 1}, {"ivrEnd", 107}, {"notWorkTime", 106}, {"error", 0},
	{"voiceMailReached", 222},
};

static void parse_hangup(struct parser *p, struct node *n, json_t *pa)
{
	static const char *const keys[] = {"prompt", "endStatus", NULL};
	const char *es;

	check_keys(p, pa, "params.", keys);
	get_prompt(p, pa, "prompt", &n->prompt, false);
	n->end_status = -1;
	es = get_str(p, pa, "params.", "endStatus", false, 32);
	if (!es)
		return;
	for (size_t i = 0; i < sizeof(end_statuses) / sizeof(end_statuses[0]); i++) {
		if (!strcmp(es, end_statuses[i].name)) {
			n->end_status = end_statuses[i].code;
			n->end_status_string = end_statuses[i].name;
			return;
		}
	}
	ERR(p, "params.endStatus", "'%s' is not one of ok ivrEnd notWorkTime error "
	    "voiceMailReached", es);
}

static void parse_params(struct parser *p, struct node *n, json_t *pa)
{
	static const char *const prompt_keys[] = {"tts", "file", "fileId", "customFileName",
						  "lang", "interruptible", "plays", NULL};
	static const char *const vm_keys[] = {"prompt", "maxLenS", "endKey", "beep", NULL};
	static const char *const wait_keys[] = {"timeoutMs", NULL};
	static const char *const none[] = {NULL};

	switch (n->type) {
	case NODE_START:
		check_keys(p, pa, "params.", none);
		break;
	case NODE_PROMPT:
		check_keys(p, pa, "params.", prompt_keys);
		parse_prompt_obj(p, pa, "params.", &n->prompt, true);
		n->interruptible = get_bool(p, pa, "params.", "interruptible", true);
		n->plays = get_uint(p, pa, "params.", "plays", 1, 1, 10);
		break;
	case NODE_MENU:
		parse_menu(p, n, pa, false);
		break;
	case NODE_SURVEY:
		parse_menu(p, n, pa, true);
		break;
	case NODE_COLLECT:
		parse_collect(p, n, pa);
		break;
	case NODE_CONDITION:
		parse_condition(p, n, pa);
		break;
	case NODE_SETVAR:
		parse_setvar(p, n, pa);
		break;
	case NODE_HOURS:
		parse_hours(p, n, pa);
		break;
	case NODE_HTTP:
		parse_http(p, n, pa);
		break;
	case NODE_TRANSFER_SKILL:
	case NODE_TRANSFER_AGENT:
	case NODE_TRANSFER_EXT:
		parse_transfer(p, n, pa);
		break;
	case NODE_VOICEMAIL:
		check_keys(p, pa, "params.", vm_keys);
		get_prompt(p, pa, "prompt", &n->prompt, false);
		n->max_len_s = get_uint(p, pa, "params.", "maxLenS", 60, 5, 600);
		n->end_key = get_key(p, pa, "params.", "endKey", '#', true);
		n->beep = get_bool(p, pa, "params.", "beep", true);
		break;
	case NODE_HANGUP:
		parse_hangup(p, n, pa);
		break;
	case NODE_SPEECH:
		parse_speech(p, n, pa);
		break;
	case NODE_AMD:
		/* The verdict normally comes within the detector's own limits ([amd]); this is
		 * the flow's patience for it (docs/flows.md §Answering-machine detection). */
		check_keys(p, pa, "params.", wait_keys);
		n->timeout_ms = get_uint(p, pa, "params.", "timeoutMs", 6000, 500, 30000);
		p->flow->amd_node = true;
		break;
	case NODE_WAIT_BEEP:
		check_keys(p, pa, "params.", wait_keys);
		n->timeout_ms = get_uint(p, pa, "params.", "timeoutMs", 15000, 500, 120000);
		break;
	default:
		break;
	}
}

static void parse_node(struct parser *p, struct node *n, json_t *o, size_t index)
{
	static const char *const keys[] = {"id", "type", "label", "params", "next", "onTimeout",
					   "onInvalid", "onFail", "onError", "else", "open",
					   "closed", "human", "machine", "unsure", NULL};
	const struct exit_spec *ex;
	const char *type;
	json_t *pa, *empty = NULL;
	char anon[24];

	n->end_status = -1;
	n->type = NODE_TYPE_COUNT;
	/* A node without a usable id is named by its position in findings. */
	snprintf(anon, sizeof(anon), "#%zu", index);
	p->nid = anon;
	if (!json_is_object(o)) {
		ERR(p, "", "a node must be an object");
		n->id = "";
		return;
	}
	n->id = get_str(p, o, "", "id", true, 0);
	if (n->id && !id_ok(n->id)) {
		ERR(p, "id", "'%.64s' is not an id (1-63 of A-Z a-z 0-9 _ - .)", n->id);
		n->id = NULL;
	}
	if (!n->id)
		n->id = "";
	else
		p->nid = n->id;
	n->label = get_str(p, o, "", "label", false, 63);
	if (!n->label || !*n->label)
		n->label = n->id;

	check_keys(p, o, "", keys);
	type = get_str(p, o, "", "type", true, 0);
	if (!type)
		return;
	for (int t = 0; t < NODE_TYPE_COUNT; t++) {
		if (!strcmp(type, type_names[t]))
			n->type = t;
	}
	if (n->type == NODE_TYPE_COUNT) {
		ERR(p, "type", "unknown node type '%.40s'", type);
		return;
	}


	pa = json_object_get(o, "params");
	if (pa && !json_is_object(pa)) {
		ERR(p, "params", "must be an object");
		pa = NULL;
	}
	if (!pa) {
		empty = json_object();
		if (!empty) {
			ERR(p, "params", "out of memory");
			return;
		}
		pa = empty;
	}
	parse_params(p, n, pa);
	json_decref(empty);

	/* Node-level exits: the ones this type has are checked; others are findings. */
	for (ex = type_exits[n->type]; ex->name; ex++)
		add_edge(p, n, ex->name, ex->kind, 0, json_object_get(o, ex->name), ex->required);
	for (size_t i = 0; keys[i]; i++) {
		bool has = false;
		if (i < 4)
			continue;
		for (ex = type_exits[n->type]; ex->name; ex++)
			has |= !strcmp(ex->name, keys[i]);
		if (!has && json_object_get(o, keys[i]))
			ERR(p, keys[i], "a %s node has no '%s' exit", type_names[n->type], keys[i]);
	}
}

/* ---- the document ---------------------------------------------------------------- */

static void flow_destructor(void *arg)
{
	struct ivr_flow *flow = arg;

	for (size_t i = 0; i < flow->n_surveys; i++)
		mem_deref(flow->surveys[i]);

	for (size_t i = 0; flow->nodes && i < flow->n_nodes; i++) {
		struct node *n = &flow->nodes[i];
		mem_deref(n->edges);
		mem_deref(n->prompt.file);
		mem_deref(n->timeout_prompt.file);
		mem_deref(n->invalid_prompt.file);
		mem_deref(n->confirm_prompt.file);
		mem_deref(n->cases);
		mem_deref(n->assigns);
		mem_deref(n->holidays);
		mem_deref(n->tz);
		mem_deref(n->headers);
		mem_deref(n->request);
		mem_deref(n->outputs);
		mem_deref(n->destinations);
		mem_deref(n->grammar);
	}
	mem_deref(flow->nodes);
	json_decref(flow->doc);
}

static void parse_doc(struct parser *p)
{
	static const char *const keys[] = {"ivrId", "name", "type", "version", "start",
					   "timeZone", "lang", "variables", "limits", "nodes",
					   "description", "record", "amd", NULL};
	static const char *const lk[] = {"maxNodeVisits", "maxCallDurationS", NULL};
	static const char *const ak[] = {"enabled", "onMachine", NULL};
	struct ivr_flow *flow = p->flow;
	json_t *doc = flow->doc, *v, *nodes;
	const char *type, *k;
	size_t i;

	p->nid = "";
	if (!json_is_object(doc)) {
		ERR(p, "", "the flow must be a JSON object");
		return;
	}
	check_keys(p, doc, "", keys);
	v = json_object_get(doc, "ivrId");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1))
		ERR(p, "ivrId", "must be a positive integer");
	else if (v)
		flow->ivr_id = (uint64_t)json_integer_value(v);
	v = json_object_get(doc, "version");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
		ERR(p, "version", "must be a non-negative integer");
	flow->name = get_str(p, doc, "", "name", false, 64);
	if (!flow->name)
		flow->name = "";
	type = get_str(p, doc, "", "type", true, 0);
	if (type) {
		if (!strcmp(type, "inbound"))
			flow->type = IVR_FLOW_INBOUND;
		else if (!strcmp(type, "autoOutbound"))
			flow->type = IVR_FLOW_AUTO_OUTBOUND;
		else if (!strcmp(type, "survey"))
			flow->type = IVR_FLOW_SURVEY;
		else
			ERR(p, "type", "'%.40s' is not one of inbound autoOutbound survey", type);
	}
	get_str(p, doc, "", "timeZone", false, 64);
	get_str(p, doc, "", "description", false, 2000);
	flow->lang = get_str(p, doc, "", "lang", false, 15);
	if (!flow->lang)
		flow->lang = "en";
	flow->record = get_bool(p, doc, "", "record", false);

	flow->max_visits = 200;
	flow->max_duration_s = 3600;
	v = json_object_get(doc, "limits");
	if (v && !json_is_object(v)) {
		ERR(p, "limits", "must be an object {maxNodeVisits, maxCallDurationS}");
	}
	else if (v) {
		check_keys(p, v, "limits.", lk);
		flow->max_visits = get_uint(p, v, "limits.", "maxNodeVisits", 200, 1, 10000);
		flow->max_duration_s = get_uint(p, v, "limits.", "maxCallDurationS", 3600, 10,
						86400);
	}

	/* Answering-machine detection for the flow's calls (docs/flows.md §2): a call's
	 * CccdAmd variable overrides `enabled`. */
	v = json_object_get(doc, "amd");
	if (v && !json_is_object(v)) {
		ERR(p, "amd", "must be an object {enabled, onMachine}");
	}
	else if (v) {
		const char *om;

		check_keys(p, v, "amd.", ak);
		flow->amd = get_bool(p, v, "amd.", "enabled", false);
		om = get_str(p, v, "amd.", "onMachine", false, 16);
		if (om && !strcmp(om, "continue"))
			flow->amd_continue = true;
		else if (om && strcmp(om, "hangup"))
			ERR(p, "amd.onMachine", "'%s' is not one of hangup continue", om);
	}

	v = json_object_get(doc, "variables");
	if (v && !json_is_object(v)) {
		ERR(p, "variables", "must be an object {name: default value}");
	}
	else if (v) {
		json_t *val;
		char f[96];
		flow->declared = v;
		json_object_foreach(v, k, val) {
			snprintf(f, sizeof(f), "variables.%s", k);
			if (!var_name_ok(k) || !strncmp(k, "System", 6))
				ERR(p, f, "'%.64s' is not a variable name a flow may declare", k);
			else if (!json_is_string(val) || json_string_length(val) > TTS_MAX)
				ERR(p, f, "the default must be a string of at most %d characters",
				    TTS_MAX);
		}
	}

	nodes = json_object_get(doc, "nodes");
	if (!nodes) {
		ERR(p, "nodes", "missing");
		return;
	}
	if (!json_is_array(nodes) || !json_array_size(nodes)) {
		ERR(p, "nodes", "must be a non-empty array");
		return;
	}
	if (json_array_size(nodes) > NODES_MAX) {
		ERR(p, "nodes", "%zu nodes: a flow has at most %d", json_array_size(nodes),
		    NODES_MAX);
		if (json_array_size(nodes) > NODES_PARSED)
			return;
	}
	flow->nodes = mem_zalloc(json_array_size(nodes) * sizeof(*flow->nodes), NULL);
	if (!flow->nodes) {
		ERR(p, "nodes", "out of memory");
		return;
	}
	json_array_foreach(nodes, i, v) {
		parse_node(p, &flow->nodes[i], v, i);
		flow->n_nodes++;
	}
	p->nid = "";
}

int ivr_flow_load(struct ivr_flow **flowp, const char *json, size_t len,
		  const struct ivr_flow_opts *opts, struct ivr_diag **diagp)
{
	struct ivr_diag *diag;
	struct ivr_flow *flow;
	struct parser p;
	json_error_t jerr;
	int err = 0;

	if (!flowp || !json)
		return EINVAL;
	/* Room for every finding up front, so that running out of memory half-way can never
	 * lose one and let a bad flow through. */
	diag = mem_zalloc(sizeof(*diag) + IVR_DIAG_MAX * sizeof(diag->v[0]), NULL);
	flow = mem_zalloc(sizeof(*flow), flow_destructor);
	if (!diag || !flow) {
		mem_deref(diag);
		mem_deref(flow);
		return ENOMEM;
	}
	flow->start = -1;
	p = (struct parser){.flow = flow, .dp = &diag, .opts = opts, .nid = ""};

	flow->doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!flow->doc) {
		diag_add(&diag, "", "", "not valid JSON: %s (line %d, column %d)", jerr.text,
			 jerr.line, jerr.column);
		err = EINVAL;
		goto out;
	}
	parse_doc(&p);
	flow_validate(flow, &diag);
	flow_validate_speech(flow, opts, &diag);
	err = diag->n || diag->truncated ? EINVAL : 0;

 out:
	if (err) {
		mem_deref(flow);
		if (diagp)
			*diagp = diag;
		else
			mem_deref(diag);
		return err;
	}
	mem_deref(diag);
	*flowp = flow;
	if (diagp)
		*diagp = NULL;
	return 0;
}

enum ivr_flow_type ivr_flow_type(const struct ivr_flow *flow)
{
	return flow ? flow->type : 0;
}

const char *ivr_flow_type_name(enum ivr_flow_type type)
{
	switch (type) {
	case IVR_FLOW_INBOUND:       return "inbound";
	case IVR_FLOW_AUTO_OUTBOUND: return "autoOutbound";
	case IVR_FLOW_SURVEY:        return "survey";
	default:                     return "?";
	}
}

const char *ivr_flow_name(const struct ivr_flow *flow)
{
	return flow ? flow->name : "";
}

uint64_t ivr_flow_id(const struct ivr_flow *flow)
{
	return flow ? flow->ivr_id : 0;
}

bool ivr_flow_amd(const struct ivr_flow *flow)
{
	return flow && flow->amd;
}

bool ivr_flow_records(const struct ivr_flow *flow)
{
	return flow && flow->record;
}

size_t ivr_flow_survey_ids(const struct ivr_flow *flow, uint64_t *ids, size_t max)
{
	if (!flow)
		return 0;
	for (size_t i = 0; i < flow->n_surveys && i < max; i++)
		ids[i] = flow->survey_ids[i];
	return flow->n_surveys;
}

int ivr_flow_survey_attach(struct ivr_flow *flow, uint64_t ivr_id, struct ivr_flow *survey)
{
	if (!flow || !survey || survey->type != IVR_FLOW_SURVEY)
		return EINVAL;
	for (size_t i = 0; i < flow->n_surveys; i++) {
		if (flow->survey_ids[i] == ivr_id) {
			mem_deref(flow->surveys[i]);
			flow->surveys[i] = mem_ref(survey);
			return 0;
		}
	}
	return EINVAL;
}

struct ivr_flow *ivr_flow_survey(const struct ivr_flow *flow, uint64_t ivr_id)
{
	for (size_t i = 0; flow && ivr_id && i < flow->n_surveys; i++) {
		if (flow->survey_ids[i] == ivr_id)
			return flow->surveys[i];
	}
	return NULL;
}

size_t ivr_flow_node_count(const struct ivr_flow *flow)
{
	return flow ? flow->n_nodes : 0;
}

bool ivr_flow_uses_ai(const struct ivr_flow *flow)
{
	for (size_t i = 0; flow && i < flow->n_nodes; i++) {
		if (flow->nodes[i].type == NODE_SPEECH && !flow->nodes[i].grammar)
			return true;
	}
	return false;
}

bool ivr_flow_local_speech(const struct ivr_flow *flow)
{
	for (size_t i = 0; flow && i < flow->n_nodes; i++) {
		if (flow->nodes[i].type == NODE_SPEECH && flow->nodes[i].grammar)
			return true;
	}
	return false;
}

int ivr_doc_uses_ai(const char *json, size_t len, bool *aip)
{
	json_t *doc, *node;
	size_t i;

	if (!json || !aip)
		return EINVAL;
	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return EINVAL;
	}
	*aip = false;
	json_array_foreach(json_object_get(doc, "nodes"), i, node) {
		const char *t = json_string_value(json_object_get(node, "type"));
		const char *e = json_string_value(json_object_get(json_object_get(node, "params"),
								  "engine"));

		if (t && !strcmp(t, type_names[NODE_SPEECH]) && !(e && !strcmp(e, "local")))
			*aip = true;
	}
	json_decref(doc);
	return 0;
}
