/* api internals: the request pipeline's pieces, shared by the module's files and its unit
 * tests and fuzz harness. Nothing here touches the network. */
#ifndef CCCD_API_INT_H
#define CCCD_API_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "api/api.h"
#include "sign/sign.h"

/* ---- errors ----------------------------------------------------------------------
 * Every refusal is one of these codes (TCCC's names in error.c) and a message. */
enum api_code {
	API_OK = 0,
	API_AUTH_INVALID_AUTHORIZATION,
	API_AUTH_INVALID_SECRET_ID,
	API_AUTH_SECRET_ID_NOT_FOUND,
	API_AUTH_SIGNATURE_EXPIRE,
	API_AUTH_SIGNATURE_FAILURE,
	API_AUTH_TOKEN_FAILURE,
	API_INTERNAL_ERROR,
	API_INTERNAL_ERROR_DB_ERROR,   /* a durable write failed: the store is unusable */
	API_INVALID_ACTION,
	API_INVALID_PARAMETER,
	API_INVALID_PARAMETER_VALUE,
	API_INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST,
	API_INVALID_REQUEST,
	API_MISSING_PARAMETER,
	API_NO_SUCH_VERSION,
	API_REQUEST_LIMIT_EXCEEDED,
	API_REQUEST_SIZE_LIMIT_EXCEEDED,
	API_UNKNOWN_PARAMETER,
	API_UNSUPPORTED_PROTOCOL,
	API_UNAUTHORIZED_OPERATION,
	API_FAILED_OPERATION_NO_CALL_OUT_NUMBER,
	API_FAILED_OPERATION_PERMISSION_DENIED,
	API_FAILED_OPERATION_SESSION_NOT_EXISTS,
	API_LIMIT_EXCEEDED_BASE_PACKAGE_EXPIRED,
	API_LIMIT_EXCEEDED_OUT_OF_COUNT_LIMIT,
	API_FAILED_OPERATION_CALLEE_IS_BLACK_USER,
	API_FAILED_OPERATION_CALLOUT_RULE_BLIND_AREA,
	API_FAILED_OPERATION_CALLOUT_RULE_NOT_WORK_TIME,
	API_FAILED_OPERATION_CALLOUT_RULE_INTERVAL,
	API_FAILED_OPERATION_CALLOUT_RULE_DAILY,
	API_FAILED_OPERATION_CALLER_OVER_FREQUENCY,
	API_FAILED_OPERATION_AI_CONCURRENT_NO_PACKAGE,
	API_FAILED_OPERATION_AI_CONCURRENT_OVER_FREQUENCY,
	API_FAILED_OPERATION_CALL_OUT_FAILED,
	API_FAILED_OPERATION_SESSIONS_IN_PROGRESS, /* cccd's own: erasure of a number in a call */
	API_FAILED_OPERATION_UPLOAD_FILE_OVERFLOW, /* UploadIvrAudio: the daily file limit */
	API_FAILED_OPERATION_AUDIO_IN_USE, /* cccd's own: deleting a prompt a flow plays */
	API_LIMIT_EXCEEDED,
	API_RESOURCE_UNAVAILABLE,
	API_UNSUPPORTED_OPERATION,     /* an auto-callout task's state does not allow it */
	API_CODE_COUNT
};

struct api_error {
	enum api_code code;
	char msg[2048];          /* room for every finding of a refused flow */
};

const char *api_code_name(enum api_code c);

/* Fills e and returns c, so a refusal is one line: `return api_fail(e, CODE, ...);`. */
enum api_code api_fail(struct api_error *e, enum api_code c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* dump.c: {"Response":{inner's members...,"RequestId":request_id}} as json_dumps(JSON_COMPACT)
 * writes it (a "RequestId" of inner is left out), into a malloc'd string *outp. Returns 0,
 * EINVAL (inner not an object) or ENOMEM. */
int api_reply_dump(const json_t *inner, const char *request_id, char **outp);

/* The reply bodies (malloc'd, for libmicrohttpd to free): NULL on ENOMEM. */
char *api_reply_error(const struct api_error *e, const char *request_id);
/* Consumes `fields` (a JSON object; RequestId is appended). */
char *api_reply_ok(json_t *fields, const char *request_id);

/* ---- the HTTP request as received ------------------------------------------------ */

/* Spec §1 size limits. */
enum {
	API_MAX_GET = 32 * 1024,          /* whole request target */
	API_MAX_BODY_V1 = 1024 * 1024,
	API_MAX_BODY_TC3 = 10 * 1024 * 1024,
	API_MAX_HEADERS = 64,
};

struct api_header {
	const char *name;
	const char *value;
};

struct api_http {
	const char *method;
	const char *target;               /* raw request target: path [ "?" query ] */
	const struct api_header *headers; /* at most API_MAX_HEADERS */
	size_t n_headers;
	const char *body;                 /* raw bytes, not NUL-terminated */
	size_t body_len;
	uint16_t listen_port;             /* for v1 hosts sent without their port */
};

/* First header of that name (case-insensitive), or NULL. */
const char *api_http_header(const struct api_http *h, const char *name);

/* True when the Authorization header announces TC3 (decides the body size limit). */
bool api_http_is_tc3(const char *authorization);

/* ---- form bodies and query strings ----------------------------------------------- */

/* Decoded name/value pairs in the order received (names and values percent-decoded, '+'
 * read as space). Owned by the caller (mem_deref). */
struct api_form {
	struct sign_param *v;
	size_t n;
};

/* InvalidRequest for a bad percent escape, a NUL byte, text that is not UTF-8, an empty
 * name or a name given twice. */
enum api_code api_form_decode(const char *s, size_t len, struct api_form **fp,
			      struct api_error *e);
const char *api_form_get(const struct api_form *f, const char *name);

/* Rebuilds the parameter tree from flattened names (`Callers.0`, `Variables.1.Key`);
 * public parameters (api_public_param) are left out. Leaves are strings. InvalidParameter
 * for malformed names, a name used both as a value and a container, array indices out of
 * range or with gaps, or lists mixed with names. */
enum api_code api_form_unflatten(const struct api_form *f, json_t **objp, struct api_error *e);

/* True for the public parameters of spec §2 (Action, Version, ..., RequestClient). */
bool api_public_param(const char *name);

/* ---- parameter validation --------------------------------------------------------- */

/* API_T_ANY: any JSON value, kept as given — for newer TCCC fields cccd accepts and
 * ignores without knowing their shape (docs/api-compatibility.md). */
enum api_type { API_T_INT64 = 1, API_T_UINT64, API_T_STRING, API_T_BOOL, API_T_STRUCT,
		API_T_ANY };

/* A further check of a validated value (its type is right): returns API_OK or fills e
 * (InvalidParameterValue, naming `path`). */
typedef enum api_code (api_check_h)(const json_t *v, const char *path, struct api_error *e);

struct api_field {
	const char *name;               /* NULL ends a table */
	enum api_type type;
	bool array;                     /* "Array of <type>" */
	bool required;
	int64_t min, max;               /* integers: value range; strings: length in bytes */
	size_t max_items;               /* arrays: most elements */
	const struct api_field *members; /* API_T_STRUCT: its fields */
	api_check_h *check;
	const char *const *choices;     /* API_T_STRING: the values allowed, NULL-ended;
					   NULL = any (the help lists them) */
};

/* Checks `in` against `fields` and returns a new tree with every value of its declared
 * JSON type (decimal strings → integers, "true"/"false" → booleans). Order of checks:
 * unknown parameters (UnknownParameter), then each field in table order: missing
 * (MissingParameter), type (InvalidParameter), value (InvalidParameterValue). Public
 * parameters at the top level are never unknown. */
enum api_code api_validate(const struct api_field *fields, const json_t *in, json_t **outp,
			   struct api_error *e);

/* Shared checks (fields.c): a phone number's syntax (3 to 20 digits, optional + or 00),
 * each element of a list of them, and Variables (keys are identifiers, none twice). Limits
 * written in docs/api-compatibility.md. */
enum {
	API_MAX_VARIABLES = 32,
	API_MAX_VARIABLE_KEY = 64,
	API_MAX_VARIABLE_VALUE = 1024,
};
enum api_code api_check_number(const json_t *v, const char *path, struct api_error *e);
enum api_code api_check_numbers(const json_t *v, const char *path, struct api_error *e);
enum api_code api_check_variables(const json_t *v, const char *path, struct api_error *e);
extern const struct api_field api_variable_fields[]; /* {Key, Value} */

/* Does the flow of this IVR version have an AI/speech node (it then needs an AI licence
 * per call)? Remembered per thread: a stored version never changes. Reads the store on a
 * miss; ENOENT or EIO if the document cannot be read, EINVAL if it does not parse. */
struct store;
int api_flow_uses_ai(struct store *st, uint64_t sdkappid, uint64_t ivr_id, uint32_t version,
		     bool *aip);

/* ---- the parsed request ------------------------------------------------------------ */

enum api_scheme { API_SCHEME_TC3 = 1, API_SCHEME_V1 };

/* Owned by the caller (mem_deref). Strings point into the request's own copies. */
struct api_request {
	enum api_scheme scheme;
	const struct api_http *http;  /* not owned; must outlive the request */
	char *path;                   /* request path without the query */
	const char *query;            /* raw query ("" when none), inside http->target */
	struct api_form *form;        /* decoded form body or query, or NULL (JSON body) */
	json_t *json;                 /* JSON body object, or NULL (form) */

	/* public parameters */
	const char *action;
	const char *version;
	const char *secret_id;
	const char *token;            /* NULL when absent or empty */
	int64_t timestamp;

	/* v1 */
	const char *nonce;
	const char *signature;
	enum sign_v1_method method;
	bool method_ok;               /* SignatureMethod was HmacSHA1/HmacSHA256/absent */

	/* TC3: the parsed Authorization header */
	char *auth;                   /* copy, cut into the fields below */
	const char *date;
	const char *service;
	const char *signed_headers;   /* "content-type;host" */
	const char *tc3_signature;
};

/* Steps 1-2 of spec §4: method, size, body, scheme and public parameter syntax. */
enum api_code api_request_parse(const struct api_http *h, struct api_request **rp,
				struct api_error *e);

/* Step 3: the ±300 s window. */
enum api_code api_request_check_time(const struct api_request *r, int64_t now_s,
				     struct api_error *e);

/* Step 5: the signature, with the SecretKey of r->secret_id (SignatureFailure). Hosts and
 * header values are tried in every form an official SDK signs them (spec §5-§7). */
enum api_code api_request_verify(const struct api_request *r, const char *secret_key,
				 struct api_error *e);

/* The action parameters as a tree (JSON body, or the unflattened form). New reference. */
enum api_code api_request_params(const struct api_request *r, json_t **objp,
				 struct api_error *e);

/* ---- rate limits and replays -------------------------------------------------------- */

/* Sliding one-second window per (account, action): at most `limit` accepted requests in
 * any window of 1 s. Thread-safe; the clock is the caller's (monotonic µs). */
struct api_ratelimit;
int api_ratelimit_alloc(struct api_ratelimit **rlp);
bool api_ratelimit_take(struct api_ratelimit *rl, uint64_t account_id, const char *action,
			unsigned limit, uint64_t now_us);
size_t api_ratelimit_keys(struct api_ratelimit *rl);

/* v1 replay protection: remembers (SecretId, Timestamp, Nonce, Signature) for as long as
 * the timestamp is inside the ±300 s window. Thread-safe. */
struct api_replay;
int api_replay_alloc(struct api_replay **rp, size_t max_entries);
/* 0 the first time; EALREADY for a repeat; ENOSPC when max_entries are remembered. */
int api_replay_check(struct api_replay *rp, const char *secret_id, int64_t timestamp,
		     const char *nonce, const char *signature, int64_t now_s);

/* ---- actions ------------------------------------------------------------------------ */

struct store;
struct tenant;
struct store_instance;

/* What an action may use; valid for the duration of one call. */
struct api_ctx {
	struct store *st;
	struct tenant *t;
	const struct api_hooks *hooks;
	uint64_t account_id;
	const char *request_id;
	int64_t now_ms;              /* wall clock */
	const char *secret_id;       /* the credential that signed the request */
	unsigned rate_limit;         /* the action's requests/s per account (0: none) */
	const struct api_conf *conf;
	struct api_core *core;       /* per-instance limits (api_instance_rate_take), the
					parsed rules' cache (callout.c) */
	uint64_t mono_us;            /* the request's monotonic clock */
	const char *host;            /* the request's Host header ("" when none) */
	const char *console_user;    /* the web console user running it; NULL for a signed
					request (api_operator refuses the console) */
};

/* Runs with validated params; adds its output fields to `out`. */
typedef enum api_code (api_action_h)(const struct api_ctx *ctx, const json_t *params,
				     json_t *out, struct api_error *e);

/* The caller's instance `sdkappid` into *inst. Another account's instance is refused like
   an unknown one (InstanceNotExist), so that no credential learns what others own. */
enum api_code api_instance(const struct api_ctx *ctx, uint64_t sdkappid,
			   struct store_instance *inst, struct api_error *e);
struct store_ivr;
/* The same with the instance's callout rules' text (*rulesp, a mem string the caller
 * owns) and its IVR ivr_id (ivr->ivr_id 0: none) read in the same statement:
 * CreateIVRSession's one read before its admission (store_instance_get_rules). */
enum api_code api_instance_rules(const struct api_ctx *ctx, uint64_t sdkappid,
				 uint64_t ivr_id, struct store_instance *inst, char **rulesp,
				 struct store_ivr *ivr, struct api_error *e);

enum { API_RATE_DEFAULT = 0 }; /* the action follows [api] rate_limit */

/* A per-instance limit (UploadIvrAudio: 1 request/s per instance, beside the account's
 * limit): false when `sdkappid` already had `limit` requests of the action in the last
 * second on this node. Always true when limits are off ([api] rate_limit = 0) or the
 * context has no core (the task scheduler). */
bool api_instance_rate_take(const struct api_ctx *ctx, uint64_t sdkappid,
			    const char *action, unsigned limit);

/* UploadIvrAudio holds an API thread while it fetches: at most half of the node's API
 * threads (at least one) may do so at once, so other actions always have a thread.
 * false when that many are running; otherwise counts this one until upload_end. */
bool api_upload_begin(const struct api_ctx *ctx);
void api_upload_end(const struct api_ctx *ctx);

struct api_action {
	const char *name;
	const struct api_field *fields;
	unsigned rate;               /* requests/s, or API_RATE_DEFAULT */
	api_action_h *run;
	const char *summary;         /* one line for `ccc help` and the man page (help.c) */
};

extern const struct api_action api_action_create_ivr_session;
extern const struct api_action api_action_describe_tel_session;
extern const struct api_action api_action_describe_tel_cdr;
extern const struct api_action api_action_describe_pstn_active_session_list;
extern const struct api_action api_action_hang_up_call;
extern const struct api_action api_action_describe_numbers;
extern const struct api_action api_action_describe_tel_call_info;
extern const struct api_action api_action_describe_call_in_metrics;
extern const struct api_action api_action_upload_ivr_audio;
extern const struct api_action api_action_describe_ivr_audio_list;
extern const struct api_action api_action_cccd_delete_ivr_audio;
extern const struct api_action api_action_create_auto_callout_task;
extern const struct api_action api_action_describe_auto_callout_task;
extern const struct api_action api_action_describe_auto_callout_tasks;
extern const struct api_action api_action_stop_auto_callout_task;
extern const struct api_action api_action_pause_auto_callout_task;
extern const struct api_action api_action_resume_auto_callout_task;
/* Admin actions (docs/admin-api.md): tenants on their own instances... */
extern const struct api_action api_action_cccd_put_ivr_flow;
extern const struct api_action api_action_cccd_describe_ivr_flows;
extern const struct api_action api_action_cccd_describe_ivr_flow;
extern const struct api_action api_action_cccd_describe_callout_rules;
extern const struct api_action api_action_cccd_modify_callout_rules;
extern const struct api_action api_action_cccd_describe_blacklist;
extern const struct api_action api_action_cccd_modify_blacklist;
extern const struct api_action api_action_cccd_modify_number;
extern const struct api_action api_action_cccd_describe_numbers;
extern const struct api_action api_action_cccd_describe_instance;
extern const struct api_action api_action_cccd_describe_sip_trace;
extern const struct api_action api_action_cccd_create_console_user;
extern const struct api_action api_action_cccd_describe_console_users;
extern const struct api_action api_action_cccd_delete_console_user;
extern const struct api_action api_action_cccd_modify_console_user;
extern const struct api_action api_action_cccd_create_console_login_url;
extern const struct api_action api_action_cccd_describe_console_audit;
extern const struct api_action api_action_cccd_describe_session_path;
/* ...and operators on every instance. */
extern const struct api_action api_action_cccd_modify_instance;
extern const struct api_action api_action_cccd_create_tenant;
extern const struct api_action api_action_cccd_create_credential;
extern const struct api_action api_action_cccd_describe_credentials;
extern const struct api_action api_action_cccd_disable_credential;
extern const struct api_action api_action_cccd_drain_node;
extern const struct api_action api_action_cccd_erase_phone_number;

/* The instance's uploaded prompts for the flows the API loads (an ivr_audio_h; arg is a
 * struct api_audio_ref). When watch is a FileId, used says whether the flow named it. */
struct api_audio_ref {
	struct store *st;
	uint64_t sdkappid;
	uint64_t watch;
	bool used;
};
int api_audio_resolve(uint64_t file_id, const char *custom_name, char *path, size_t sz,
		      void *arg);

/* UnauthorizedOperation unless the caller's account is an operator account (and the
 * request is signed: the web console never runs an operator's action). */
enum api_code api_operator(const struct api_ctx *ctx, struct api_error *e);

const struct api_action *api_action_find(const char *name);
/* The i-th served action in table order; NULL past the last. */
const struct api_action *api_action_at(size_t i);
/* The action's slot in the metrics (its place in the table); metrics_api_unknown_action()
 * for none. api_actions_metrics_labels names the slots (once, before serving). */
unsigned api_action_index(const struct api_action *act);
void api_actions_metrics_labels(void);

struct store_session;
/* CreateIVRSession's calling rules: normalises Callee into s->callee, runs the checks of
 * callout-rules.md §3.4 steps 6–12 and, when they pass, inserts s durably with the chosen
 * caller (step 13). A session of an AI flow (s->ai) also needs a free one of the
 * instance's `ai_channels`, counted in the same transaction. `rules` is the instance's
 * rule set's text as api_instance_rules read it (parsed through the core's cache). Every
 * refusal is its TCCC code with the rule's own words. */
/* Steps 3 and 4 (edition, package) by policy_check_licence, the one place deciding them:
 * PermissionDenied, or BasePackageExpired once now >= package_expires_at. */
struct store_instance;
enum api_code api_callout_licence(const struct store_instance *inst, int64_t now,
				  struct api_error *e);

enum api_code api_callout_admit(const struct api_ctx *ctx, const json_t *params,
				struct store_session *s, const char *rules,
				uint32_t ai_channels, struct api_error *e);

/* ---- the pipeline ------------------------------------------------------------------- */

struct api_core {
	struct api_conf conf;
	struct store *st;            /* not owned */
	struct tenant *t;            /* not owned */
	struct api_hooks hooks;
	struct api_ratelimit *rl;    /* owned */
	struct api_replay *replay;   /* owned; NULL when replay_cache = 0 */
	atomic_uint uploads;         /* UploadIvrAudio requests fetching (api_upload_begin) */
	atomic_uint signins;         /* console password sign-ins in progress (console.c) */
	struct console_limit *signin_users; /* owned: failed console sign-ins per user */
	struct console_limit *signin_addrs; /* owned: ... per client address (console.c) */
	struct policy_cache *rules;  /* owned: instances' parsed calling rules (callout.c) */
};

/* The console's sign-in limits of a new core (console.c). */
int api_console_limits_alloc(struct api_core *c);

/* The auto-callout scheduler's thread (tasks.c), started with the API; mem_deref stops
 * it (after its tick in progress). */
struct tz;
struct api_tasks;
int api_tasks_start(struct api_tasks **tp, struct api_core *core);

/* An instance's new-call credit (task_pace.c): a token bucket that earns calls_per_second
 * over the time that passes, keeps what a tick did not use, and holds at most
 * max(1 s, 2 ticks) of it. Plain data, zeroed before the first use. */
struct api_pace_bucket {
	uint64_t credit;             /* calls earned, in thousandths */
	uint64_t last_ms;            /* monotonic ms of the last earning; 0 = never */
};

/* Earns what passed since the last call (one tick's share the first time) and returns
 * the whole calls the bucket holds: the tick's budget. */
unsigned api_pace_earn(struct api_pace_bucket *b, unsigned per_s, unsigned tick_ms,
		       uint64_t now_ms);
/* Takes `used` calls of what api_pace_earn returned; the rest stays for the next tick. */
void api_pace_spend(struct api_pace_bucket *b, unsigned used);
/* One task's share of what is left of its instance's budget, `left` calls among
 * `tasks` tasks still to serve this tick (rounded up, so that nothing is left over). */
unsigned api_pace_share(unsigned left, unsigned tasks);

/* A task's AvailableTime ("start-end,..." in seconds of the day, task_window.c) read in
 * zone tz (NULL: UTC): is `now` inside one of the windows? No windows = always. An end
 * before the start runs over midnight. */
bool api_window_open(const char *windows, const struct tz *tz, int64_t now);
/* The first instant at or after now at which a window is open (now itself when one is):
 * a window's start on this local day or the next, found through the zone's own day
 * starts, so a DST change in between is counted. EINVAL for no windows or a zone error. */
int api_window_next(const char *windows, const struct tz *tz, int64_t now, int64_t *nextp);

/* GET (or HEAD) of a recording link's path? */
bool api_download_is(const char *method, const char *path);
/* Answers a recording download (download.c): an enum MHD_Result. l may be NULL (404). */
struct MHD_Connection;
struct records_links;
int api_download(struct MHD_Connection *conn, const struct records_links *l, const char *path);
/* Answers with the WAV file at abs (audio/wav, from its descriptor), or a 404 when it is
 * not there: an enum MHD_Result. */
int api_wav_send(struct MHD_Connection *conn, const char *abs);

int api_core_alloc(struct api_core **cp, const struct api_conf *ac, struct store *st,
		   struct tenant *t, const struct api_hooks *hooks);

/* One request, start to end (spec §4 order): the reply body (malloc'd; NULL only on
 * ENOMEM). now_ms is the wall clock, mono_us a monotonic clock (rate limits). */
char *api_core_handle(struct api_core *c, const struct api_http *h, int64_t now_ms,
		      uint64_t mono_us);

/* Runs act for a web console user as if account_id had signed params (already holding
 * the session's SdkAppId): rate limit, validation, the action, the envelope, metrics. The
 * reply body as api_core_handle's; *rcp gets the action's code (the audit log's). */
char *api_core_run_as(struct api_core *c, const struct api_action *act, uint64_t account_id,
		      const char *user, const json_t *params, const char *host, int64_t now_ms,
		      uint64_t mono_us, enum api_code *rcp);

/* ---- the web console's HTTP side (console.c, docs/console.md) ---------------------- */

/* Whether the path is the console's (/console, /console/...). */
bool api_console_is(const char *path);

/* One console request, answered on conn (an enum MHD_Result): its pages, sign-in, sign-out
 * and the actions run for the session's user. body may be NULL (none sent). tls: the
 * listener is HTTPS (the cookie is then Secure). */
int api_console_handle(struct api_core *c, struct MHD_Connection *conn, const char *method,
		       const char *path, const char *body, size_t body_len, bool tls);

#endif
