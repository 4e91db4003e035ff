/* ivr internals: the compiled flow shared by the parser, the validator and the interpreter. */
#ifndef CCCD_IVR_INT_H
#define CCCD_IVR_INT_H

#include <jansson.h>
#include "hours/hours.h"
#include "ivr/ivr.h"

struct tz;

struct asr_grammar;

enum node_type {
	NODE_START = 0,
	NODE_PROMPT,
	NODE_MENU,
	NODE_COLLECT,
	NODE_CONDITION,
	NODE_SETVAR,
	NODE_HOURS,
	NODE_HTTP,
	NODE_TRANSFER_SKILL,
	NODE_TRANSFER_AGENT,
	NODE_TRANSFER_EXT,
	NODE_VOICEMAIL,
	NODE_SURVEY,
	NODE_HANGUP,
	NODE_SPEECH,
	NODE_AMD,
	NODE_WAIT_BEEP,
	NODE_TYPE_COUNT
};

/* A prompt as written in the flow: text (a template) or a file (absolute path). */
struct prompt_def {
	const char *tts;         /* points into the flow's JSON document */
	char *file;              /* owned (mem): resolved path */
	const char *lang;
	char where[40];          /* its field prefix, "params.prompt." */
	bool set;
};

/* One exit of a node; `field` names it for errors ("params.keys.1.next"). */
struct edge {
	char field[48];
	const char *to_id;       /* into the JSON document */
	int to;                  /* node index, -1 when unset or dangling */
	enum { EDGE_NEXT, EDGE_KEY, EDGE_TIMEOUT, EDGE_INVALID, EDGE_FAIL, EDGE_ERROR,
	       EDGE_CASE, EDGE_ELSE, EDGE_OPEN, EDGE_CLOSED, EDGE_HUMAN, EDGE_MACHINE,
	       EDGE_UNSURE } kind;
	int index;               /* the key character or the case number */
};

enum cond_op { OP_EQ, OP_NE, OP_CONTAINS, OP_PREFIX, OP_SUFFIX, OP_LT, OP_GT, OP_LE, OP_GE,
	       OP_EMPTY, OP_NOT_EMPTY, OP_IN };

struct cond_case {
	const char *var;
	enum cond_op op;
	const char *value;       /* a template */
	int edge;                /* index into node->edges */
};

struct assign {
	const char *var;
	const char *value;       /* a template, or NULL when `add` */
	double add;
	bool is_add;
};

struct menu_key {
	char key;
	const char *label;
	int edge;
};

struct http_kv {
	const char *name;
	const char *value;       /* a template */
};

struct http_out {
	const char *var;
	const char *path;        /* dot path into the JSON reply */
	const char *def;         /* default when missing or on failure */
};

struct node {
	const char *id;
	const char *label;       /* label, else id */
	enum node_type type;
	struct edge *edges;      /* mem array */
	size_t n_edges;

	/* prompt-like */
	struct prompt_def prompt;      /* prompt, menu, collect, survey, voicemail, hangup */
	struct prompt_def timeout_prompt;
	struct prompt_def invalid_prompt;
	bool interruptible;
	unsigned plays;

	/* menu, survey, collect; amd and waitBeep: how long to wait for the verdict / beep */
	struct menu_key keys[16];
	size_t n_keys;
	unsigned timeout_ms;
	unsigned retries;

	/* collect */
	const char *var;
	unsigned min_len, max_len;
	char terminator;               /* 0 = none */
	unsigned first_ms, inter_ms;
	bool confirm;
	struct prompt_def confirm_prompt;
	char confirm_key, reenter_key;

	/* condition */
	struct cond_case *cases;       /* mem array */
	size_t n_cases;

	/* setVar */
	struct assign *assigns;        /* mem array */
	size_t n_assigns;

	/* businessHours */
	struct hours_window windows[16]; /* hours.h, as the calling rules' work_time */
	size_t n_windows;
	int64_t *holidays;             /* mem array: days since 1970-01-01, ascending */
	size_t n_holidays;
	struct tz *tz;                 /* mem */

	/* http */
	const char *url;
	const char *method;
	const char *body;              /* a template; NULL = the `request` object as JSON */
	struct http_kv *headers;       /* mem array */
	size_t n_headers;
	struct http_kv *request;       /* mem array */
	size_t n_request;
	struct http_out *outputs;      /* mem array */
	size_t n_outputs;
	unsigned max_errors;

	/* transfers */
	const char *number;            /* template */
	const char *caller;            /* template */
	uint64_t skill_group_id;
	const char **destinations;     /* mem array of pointers into the document */
	size_t n_destinations;
	unsigned ring_timeout_s, max_wait_s;
	uint64_t survey_ivr_id;        /* surveyIvrId; 0 = none */

	/* voicemail */
	unsigned max_len_s;
	char end_key;
	bool beep;

	/* speech: prompt, url, headers, timeout_ms (the recogniser's), max_len_s, end_key,
	 * var (the recognised text); intents are cases on intent_var (op eq). With
	 * "engine": "local" no url: the grammar the local recogniser decodes with. */
	const char *intent_var;
	unsigned silence_ms;
	struct asr_grammar *grammar;   /* "engine": "local"; NULL for the URL recogniser */

	/* hangup */
	int end_status;                /* -1 = by flow type */
	const char *end_status_string;
};

/* Owner: every run using it and the loader (reference-counted). */
struct ivr_flow {
	json_t *doc;                   /* the document; node strings point into it */
	uint64_t ivr_id;
	const char *name;
	enum ivr_flow_type type;
	const char *lang;
	bool record;                   /* "record": record every call of this flow */
	bool amd;                      /* "amd.enabled": detect who answers its calls */
	bool amd_continue;             /* "amd.onMachine" continue (else hang up on MACHINE
					* when the flow has no amd node) */
	bool amd_node;                 /* it has an amd node: that node takes the verdict */
	json_t *declared;              /* "variables": name → default (borrowed from doc) */
	unsigned max_visits;
	unsigned max_duration_s;
	struct node *nodes;            /* mem array */
	size_t n_nodes;
	int start;
	struct ivr_flow *surveys[IVR_SURVEYS_MAX]; /* attached survey flows, by survey_ids */
	uint64_t survey_ids[IVR_SURVEYS_MAX];      /* the distinct surveyIvrIds, in node order */
	size_t n_surveys;
};

/* Findings (validate.c). */
void diag_add(struct ivr_diag **dp, const char *node, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Templates (template.c). `${Name}` is replaced by the variable's value; a name is
 * [A-Za-z_][A-Za-z0-9_.]*, "$$" is a literal '$'. */
typedef const char *(tmpl_lookup_h)(const char *name, void *arg);
typedef void (tmpl_name_h)(const char *name, size_t len, void *arg);
/* Calls h for each referenced name; EINVAL (with a reason) on malformed syntax. */
int tmpl_scan(const char *t, tmpl_name_h *h, void *arg, char *why, size_t whysz);
/* Renders into a new mem string. */
int tmpl_render(char **outp, const char *t, tmpl_lookup_h *lookup, void *arg);

/* The system variables (template.c). */
bool sysvar_is(const char *name, size_t len);

/* Conditions (cond.c). */
bool cond_eval(enum cond_op op, const char *lhs, const char *rhs);
int  cond_op_parse(const char *s, enum cond_op *op);

/* Validation of the parsed graph and templates (validate.c). */
void flow_validate(struct ivr_flow *flow, struct ivr_diag **dp);
/* The local speech nodes' phrases against the recogniser's dictionary (blocking: its file). */
void flow_validate_speech(const struct ivr_flow *flow, const struct ivr_flow_opts *opts,
			  struct ivr_diag **dp);

/* HTTP client on the libre loop (http.c). */
struct ivr_http_client;
struct ivr_http_req;
/* err 0: a reply came (any status); else ETIMEDOUT, ECONNREFUSED, EHOSTUNREACH, EFBIG, EPROTO
 * with libcurl's words in `why`. */
typedef void (ivr_http_done_h)(int err, const char *why, long status, const char *body, size_t len,
			  void *arg);
int  ivr_http_client_alloc(struct ivr_http_client **hcp);
/* Sends one request (body: body_len bytes, any content; NULL = none); h is called once (never from inside this call) unless the request is
 * mem_deref'd first, which cancels it. `headers` are "Name: value" strings. */
int  ivr_http_send(struct ivr_http_req **reqp, struct ivr_http_client *hc, const char *method,
	       const char *url, const char *const *headers, size_t n_headers, const char *body,
	       size_t body_len, unsigned timeout_ms, ivr_http_done_h *h, void *arg);

#endif
