/* console: the web console's HTTP side on the API listener (docs/console.md) — its pages
 * (built into the binary), sign-in by password or one-time link, the session cookie, CSRF,
 * the security headers, and /console/api/<Action>, which runs the same actions as every
 * client for the session's user, within its role and its instance, writing every change
 * to the audit log.
 *
 * Why a cookie and a CSRF header both: the cookie (HttpOnly, SameSite=Strict, Path=
 * /console, Secure on HTTPS) keeps the session token out of the page's scripts, so an
 * injected script cannot carry it away; SameSite=Strict keeps other sites' pages from
 * sending it; and the per-session CSRF token, which only the console's own page can read
 * (from the sign-in answer or /console/api/me, both same-origin JSON), must come back in
 * X-CSRF-Token on every POST — a second lock for browsers or proxies that lose SameSite.
 * POSTs must also be application/json, which no HTML form can send cross-site without a
 * CORS preflight that cccd never grants. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "base/base.h"
#include "console/console.h"
#include "records/records.h"
#include "store/store.h"

/* Sessions last 12 h at most, and end after 30 min without a request; the idle clock is
 * written at most once a minute (a durable write per request would cost a commit each). */
enum {
	SESSION_TTL_S = 12 * 3600,
	SESSION_IDLE_S = 30 * 60,
	SESSION_TOUCH_S = 60,
	SUMMARY_MAX = 1000,
};

/* Failed sign-ins (docs/console.md §Signing in): 5 for one user, 20 from one client
 * address, within 5 minutes of the first; then that user or address waits for the rest of
 * the 5 minutes (429 with Retry-After), whatever it sends, before any hash is checked. A
 * success clears its user's count, not its address's: else an attacker holding one
 * account could clear the address count between guesses at others. An address counts
 * more failures than a user because an office shares one behind its NAT. Failed one-time
 * links count against the address. */
enum {
	SIGNIN_USER_MAX = 5,
	SIGNIN_ADDR_MAX = 20,
	SIGNIN_WINDOW_S = 300,
	SIGNIN_BUSY_RETRY_S = 1,
};

int api_console_limits_alloc(struct api_core *c)
{
	int err = console_limit_alloc(&c->signin_users, SIGNIN_USER_MAX, SIGNIN_WINDOW_S);

	return err ? err : console_limit_alloc(&c->signin_addrs, SIGNIN_ADDR_MAX,
						SIGNIN_WINDOW_S);
}

#define COOKIE "cccd_session"
#define API_PREFIX "/console/api/"
#define RECORDING_PREFIX API_PREFIX "recording/"
/* default-src 'self' and nothing inline; media for recordings served by this listener. */
#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " \
	    "form-action 'self'; frame-ancestors 'none'"

bool api_console_is(const char *path)
{
	return !strcmp(path, "/console") || !strncmp(path, "/console/", 9);
}

struct answer {
	unsigned status;
	const char *type;
	char *body;                  /* malloc'd (MHD frees it), or NULL with static_body */
	const unsigned char *static_body;
	size_t len;
	char cookie[256];            /* Set-Cookie, or "" */
	bool api;                    /* Cache-Control: no-store */
	uint32_t retry_after;        /* Retry-After (s), or 0 */
};

static int send_answer(struct MHD_Connection *conn, struct answer *a)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (a->static_body)
		resp = MHD_create_response_from_buffer(a->len, (void *)a->static_body,
						       MHD_RESPMEM_PERSISTENT);
	else if (a->body)
		resp = MHD_create_response_from_buffer(strlen(a->body), a->body,
						       MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(a->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", a->type);
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cache-Control", a->api ? "no-store" : "no-cache");
	if (a->cookie[0])
		MHD_add_response_header(resp, "Set-Cookie", a->cookie);
	if (a->retry_after) {
		char v[16];

		snprintf(v, sizeof(v), "%u", a->retry_after);
		MHD_add_response_header(resp, "Retry-After", v);
	}
	ret = MHD_queue_response(conn, a->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A console refusal: {"Error":{"Code","Message"}} with its HTTP status. It and the
 * functions that answer into a return 0: the request has its answer (errors included). */
static int fail(struct answer *a, unsigned status, const char *code, const char *msg)
{
	json_t *j = json_pack("{s:{s:s, s:s}}", "Error", "Code", code, "Message", msg);

	a->status = status;
	a->type = "application/json; charset=utf-8";
	a->api = true;
	a->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return 0;
}

static int ok_json(struct answer *a, json_t *j)
{
	a->status = MHD_HTTP_OK;
	a->type = "application/json; charset=utf-8";
	a->api = true;
	a->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!a->body)
		return fail(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "Out of memory.");
	return 0;
}

static void set_cookie(struct answer *a, const char *token, bool tls)
{
	if (token)
		snprintf(a->cookie, sizeof(a->cookie), COOKIE "=%s; Path=/console; HttpOnly; "
			 "SameSite=Strict; Max-Age=%d%s", token, SESSION_TTL_S,
			 tls ? "; Secure" : "");
	else
		snprintf(a->cookie, sizeof(a->cookie), COOKIE "=; Path=/console; HttpOnly; "
			 "SameSite=Strict; Max-Age=0%s", tls ? "; Secure" : "");
}

static void audit(struct api_core *c, const struct store_console_session *s,
		  const char *action, const char *result, const char *summary, int64_t now_ms)
{
	struct store_console_audit a = {.sdkappid = s->sdkappid, .at_ms = now_ms};

	str_ncpy(a.name, s->name, sizeof(a.name));
	str_ncpy(a.action, action, sizeof(a.action));
	str_ncpy(a.result, result, sizeof(a.result));
	str_ncpy(a.summary, summary ? summary : "", sizeof(a.summary));
	if (store_console_audit_add(c->st, &a))
		log_warn("api", "console: the audit entry of %s by %s could not be written",
			 action, s->name);
}

static json_t *who(const struct store_console_session *s)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:I}", "UserName", s->name, "Role", s->role,
			 "SdkAppId", (json_int_t)s->sdkappid, "CsrfToken", s->csrf,
			 "ExpiresTimestamp", (json_int_t)s->expires_at);
}

/* A new session for the user: its token goes in the cookie, its CSRF token in the
 * answer. With link, the session is made by redeeming that link (one write). */
static int session_start(struct api_core *c, struct answer *a, struct store_console_session *s,
			  const char *link_hash, bool tls, int64_t now_ms)
{
	char token[CONSOLE_TOKEN_LEN + 1];
	int err;

	if (console_token_new(token) || console_token_new(s->csrf))
		return fail(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "No randomness.");
	console_token_hash(token, s->token_hash);
	s->created_at = s->last_used_at = now_ms / 1000;
	s->expires_at = s->created_at + SESSION_TTL_S;
	err = link_hash ? store_console_link_redeem(c->st, link_hash, now_ms / 1000, s)
			: store_console_session_add(c->st, s);
	if (err == ENOENT) {
		OPENSSL_cleanse(token, sizeof(token));
		return fail(a, MHD_HTTP_UNAUTHORIZED, "AuthFailure.LinkInvalid", "The sign-in "
			    "link is unknown, used already or expired: ask for a new one.");
	}
	if (err) {
		OPENSSL_cleanse(token, sizeof(token));
		return fail(a, MHD_HTTP_SERVICE_UNAVAILABLE, "InternalError.DBError",
			    "The session could not be stored.");
	}
	set_cookie(a, token, tls);
	OPENSSL_cleanse(token, sizeof(token));
	audit(c, s, link_hash ? "SignInByLink" : "SignIn", "ok", "", now_ms);
	ok_json(a, who(s));
	return 0;
}

/* The client's address, the key of its sign-in count ("" when unknown). */
static void client_addr(struct MHD_Connection *conn, char *out, size_t sz)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, sz);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, sz);
}

/* 429 when the user (NULL: none) or the address must wait: 0 when they may try. */
static int signin_wait(struct api_core *c, struct answer *a, const char *user,
		       const char *addr, int64_t now_s)
{
	uint32_t wu = user ? console_limit_wait(c->signin_users, user, now_s) : 0;
	uint32_t wa = console_limit_wait(c->signin_addrs, addr, now_s);
	char msg[200];

	if (!wu && !wa)
		return 0;
	snprintf(msg, sizeof(msg), "Too many failed sign-ins %s: try again in %u s.",
		 wu >= wa ? "for this user" : "from this address", wu > wa ? wu : wa);
	fail(a, MHD_HTTP_TOO_MANY_REQUESTS, "AuthFailure.TooManyFailures", msg);
	a->retry_after = wu > wa ? wu : wa;
	return EAGAIN;
}

/* A password sign-in holds its API thread for an Argon2id check (0.3 s of a core, more
 * while it waits for the hash gate, console/password.c). At most a quarter of the API
 * threads (at least one) do so at once; the others are answered 503 at once, so that a
 * flood of sign-ins, which the per-key limits do not stop while its names and addresses
 * vary, leaves the other actions their threads (uploads take at most half). */
static bool signin_begin(struct api_core *c)
{
	unsigned cap = c->conf.threads / 4, n = atomic_load(&c->signins);

	if (!cap)
		cap = 1;
	do {
		if (n >= cap)
			return false;
	} while (!atomic_compare_exchange_weak(&c->signins, &n, n + 1));
	return true;
}

static int signin_busy(struct answer *a)
{
	fail(a, MHD_HTTP_SERVICE_UNAVAILABLE, "ResourceUnavailable.SignInBusy", "Too many "
	     "sign-ins are being checked at once: try again in a second.");
	a->retry_after = SIGNIN_BUSY_RETRY_S;
	return 0;
}

static int login(struct api_core *c, struct MHD_Connection *conn, struct answer *a,
		 const json_t *in, bool tls, int64_t now_ms)
{
	const json_t *id = json_object_get(in, "SdkAppId");
	const char *name = json_string_value(json_object_get(in, "UserName"));
	const char *pw = json_string_value(json_object_get(in, "Password"));
	struct store_console_session s = {0};
	struct store_console_user u = {0};
	char addr[INET6_ADDRSTRLEN], user[96];
	int err;

	if (!json_is_integer(id) || json_integer_value(id) <= 0)
		return fail(a, MHD_HTTP_BAD_REQUEST, "MissingParameter", "`SdkAppId` (a positive "
			    "integer) is required.");
	if (!name || !*name)
		return fail(a, MHD_HTTP_BAD_REQUEST, "MissingParameter", "`UserName` is required.");
	if (!pw)
		return fail(a, MHD_HTTP_BAD_REQUEST, "MissingParameter", "`Password` is required.");
	client_addr(conn, addr, sizeof(addr));
	snprintf(user, sizeof(user), "%lld/%.64s", (long long)json_integer_value(id), name);
	if (signin_wait(c, a, user, addr, now_ms / 1000))
		return 0;
	if (!signin_begin(c))
		return signin_busy(a);
	err = console_user_name_ok(name) ?
	      store_console_user_get(c->st, (uint64_t)json_integer_value(id), name, &u) : ENOENT;
	/* An unknown user costs a hash too (console_password_check of ""), so the time of
	 * the answer does not tell which names exist. */
	if (!err || err == ENOENT)
		err = console_password_check(err ? "" : u.pw_hash, pw);
	else
		err = EIO;
	atomic_fetch_sub(&c->signins, 1);
	OPENSSL_cleanse(u.pw_hash, sizeof(u.pw_hash));
	if (err == EIO)
		return fail(a, MHD_HTTP_SERVICE_UNAVAILABLE, "InternalError.DBError",
			    "The database is unavailable.");
	if (err) {
		console_limit_fail(c->signin_users, user, now_ms / 1000);
		console_limit_fail(c->signin_addrs, addr, now_ms / 1000);
		return fail(a, MHD_HTTP_UNAUTHORIZED, "AuthFailure.InvalidCredentials", "The "
			    "instance, user name or password is wrong.");
	}
	console_limit_clear(c->signin_users, user);
	s.sdkappid = u.sdkappid;
	str_ncpy(s.name, u.name, sizeof(s.name));
	str_ncpy(s.role, u.role, sizeof(s.role));
	return session_start(c, a, &s, NULL, tls, now_ms);
}

static int link_login(struct api_core *c, struct MHD_Connection *conn, struct answer *a,
		      const json_t *in, bool tls, int64_t now_ms)
{
	const char *token = json_string_value(json_object_get(in, "Token"));
	struct store_console_session s = {0};
	char hash[CONSOLE_TOKEN_LEN + 1], addr[INET6_ADDRSTRLEN];

	client_addr(conn, addr, sizeof(addr));
	if (signin_wait(c, a, NULL, addr, now_ms / 1000))
		return 0;
	if (!console_token_ok(token)) {
		console_limit_fail(c->signin_addrs, addr, now_ms / 1000);
		return fail(a, MHD_HTTP_UNAUTHORIZED, "AuthFailure.LinkInvalid", "`Token` is not "
			    "a sign-in link's token.");
	}
	console_token_hash(token, hash);
	session_start(c, a, &s, hash, tls, now_ms);
	if (a->status == MHD_HTTP_UNAUTHORIZED)
		console_limit_fail(c->signin_addrs, addr, now_ms / 1000);
	return 0;
}

/* The session of the request's cookie, judged: 0, or a refusal already in a. */
static int session_of(struct api_core *c, struct MHD_Connection *conn, struct answer *a,
		      struct store_console_session *s, int64_t now_s)
{
	const char *cookie = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cookie");
	char token[CONSOLE_TOKEN_LEN + 2], hash[CONSOLE_TOKEN_LEN + 1];
	int err;

	if (!cookie || console_cookie_get(cookie, COOKIE, token, sizeof(token)) ||
	    !console_token_ok(token))
		goto refused;
	console_token_hash(token, hash);
	OPENSSL_cleanse(token, sizeof(token));
	err = store_console_session_get(c->st, hash, s);
	if (err == ENOENT)
		goto refused;
	if (err) {
		fail(a, MHD_HTTP_SERVICE_UNAVAILABLE, "InternalError.DBError",
		     "The database is unavailable.");
		return EIO;
	}
	if (now_s >= s->expires_at || now_s - s->last_used_at >= SESSION_IDLE_S) {
		store_console_session_delete(c->st, hash);
		fail(a, MHD_HTTP_UNAUTHORIZED, "AuthFailure.SessionExpired", "The session has "
		     "expired: sign in again.");
		return EACCES;
	}
	if (now_s - s->last_used_at >= SESSION_TOUCH_S)
		store_console_session_touch(c->st, hash, now_s);
	return 0;
refused:
	fail(a, MHD_HTTP_UNAUTHORIZED, "AuthFailure.NoSession", "Sign in first: the request "
	     "has no valid console session.");
	return EACCES;
}

static bool has_sdkappid_field(const struct api_action *act)
{
	for (const struct api_field *f = act->fields; f->name; f++) {
		if (!strcmp(f->name, "SdkAppId"))
			return true;
	}
	return false;
}

/* What the audit log keeps of a request: its parameters as JSON, any password left out,
 * cut at SUMMARY_MAX bytes. */
static char *summary_of(const json_t *params)
{
	json_t *copy = json_deep_copy(params);
	char *text;

	if (!copy)
		return NULL;
	json_object_del(copy, "Password");
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (text && strlen(text) > SUMMARY_MAX)
		strcpy(text + SUMMARY_MAX - 3, "...");
	return text;
}

static int run_action(struct api_core *c, struct MHD_Connection *conn, struct answer *a,
		       const struct store_console_session *s, const char *name, json_t *params,
		       int64_t now_ms)
{
	const struct api_action *act = api_action_find(name);
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	struct store_instance inst;
	enum console_role role;
	enum api_code rc;
	char *summary;

	if (!act)
		return fail(a, MHD_HTTP_NOT_FOUND, "InvalidAction", "No such action.");
	if (console_role_parse(s->role, &role) || !console_role_allows(role, act->name))
		return fail(a, MHD_HTTP_FORBIDDEN, "UnauthorizedOperation.Role", "The console "
			    "role of this user may not run this action.");
	if (!has_sdkappid_field(act))
		return fail(a, MHD_HTTP_FORBIDDEN, "UnauthorizedOperation.Console", "This action "
			    "is not an instance's: it is not run from the console.");
	/* The session's instance, whatever the page sent. */
	if (json_object_set_new(params, "SdkAppId", json_integer((json_int_t)s->sdkappid)))
		return fail(a, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "Out of memory.");
	if (store_instance_get(c->st, s->sdkappid, &inst))
		return fail(a, MHD_HTTP_SERVICE_UNAVAILABLE, "InternalError.DBError",
			    "The instance could not be read.");
	a->status = MHD_HTTP_OK;
	a->type = "application/json; charset=utf-8";
	a->api = true;
	a->body = api_core_run_as(c, act, inst.account_id, s->name, params, host, now_ms,
				  clock_mono_us(), &rc);
	if (!console_action_changes(act->name))
		return 0;
	summary = summary_of(params);
	audit(c, s, act->name, rc ? api_code_name(rc) : "ok", summary, now_ms);
	free(summary);
	return 0;
}

static int api_request(struct api_core *c, struct MHD_Connection *conn, struct answer *a,
			const char *method, const char *name, const char *body, size_t len,
			bool tls)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	const char *csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
	int64_t now_ms = clock_unix_ms();
	struct store_console_session s;
	json_error_t jerr;
	json_t *in = NULL;

	if (len > API_MAX_BODY_V1)
		return fail(a, MHD_HTTP_CONTENT_TOO_LARGE, "RequestSizeLimitExceeded", "The body "
			    "is larger than 1 MB.");
	if (!strcmp(method, "GET") && !strcmp(name, "me")) {
		return session_of(c, conn, a, &s, now_ms / 1000) ? 0 : ok_json(a, who(&s));
	}
	if (strcmp(method, "POST"))
		return fail(a, MHD_HTTP_METHOD_NOT_ALLOWED, "UnsupportedProtocol", "The console "
			    "API takes POST (GET for /console/api/me and recording/ only).");
	if (!ct || strncasecmp(ct, "application/json", 16))
		return fail(a, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "InvalidRequest", "The body must "
			    "be application/json.");
	in = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : json_object();
	if (!json_is_object(in)) {
		json_decref(in);
		return fail(a, MHD_HTTP_BAD_REQUEST, "InvalidRequest", "The body must be a JSON "
			    "object.");
	}
	if (!strcmp(name, "login"))
		login(c, conn, a, in, tls, now_ms);
	else if (!strcmp(name, "link"))
		link_login(c, conn, a, in, tls, now_ms);
	else if (session_of(c, conn, a, &s, now_ms / 1000))
		;
	else if (!console_csrf_ok(csrf, s.csrf))
		fail(a, MHD_HTTP_FORBIDDEN, "AuthFailure.CsrfToken", "The X-CSRF-Token header is "
		     "missing or wrong.");
	else if (!strcmp(name, "logout")) {
		char hash[CONSOLE_TOKEN_LEN + 1];

		str_ncpy(hash, s.token_hash, sizeof(hash));
		store_console_session_delete(c->st, hash);
		audit(c, &s, "SignOut", "ok", "", now_ms);
		set_cookie(a, NULL, tls);
		ok_json(a, json_object());
	}
	else
		run_action(c, conn, a, &s, name, in, now_ms);
	json_decref(in);
	return 0;
}

/* GET /console/api/recording/<SessionId>: the call recording of one of the session's
 * instance's records, for the record page's <audio> player. A signed link (RecordURL)
 * would do as well, but it names [records] public_url, which may be another origin than
 * the console's (a proxy), outside its Content-Security-Policy; this path is the
 * console's own, opened by the session cookie like every read (a GET changes nothing, so
 * no CSRF header: an <audio> element cannot send one). Every role may listen: records
 * are reads. */
static int recording(struct api_core *c, struct MHD_Connection *conn, const char *id)
{
	const struct records_links *l = c->hooks.links;
	struct store_console_session s;
	struct store_session *ss = NULL;
	struct answer a = {0};
	char abs[1100];
	int n, err;

	if (session_of(c, conn, &a, &s, clock_unix_s()))
		return send_answer(conn, &a);
	if (!records_session_id_ok(id) || !l)
		goto none;
	err = store_session_get(c->st, s.sdkappid, id, &ss);
	if (err && err != ENOENT) {
		fail(&a, MHD_HTTP_SERVICE_UNAVAILABLE, "InternalError.DBError",
		     "The database is unavailable.");
		return send_answer(conn, &a);
	}
	if (err || !records_file_ok(ss->record_url, s.sdkappid))
		goto none;
	n = snprintf(abs, sizeof(abs), "%s/%s", records_links_dir(l), ss->record_url);
	mem_deref(ss);
	if (n < 0 || (size_t)n >= sizeof(abs))
		goto none;
	return api_wav_send(conn, abs);
none:
	mem_deref(ss);
	fail(&a, MHD_HTTP_NOT_FOUND, "ResourceNotFound.Recording", "This instance has no "
	     "recording of that session.");
	return send_answer(conn, &a);
}

int api_console_handle(struct api_core *c, struct MHD_Connection *conn, const char *method,
		       const char *path, const char *body, size_t body_len, bool tls)
{
	struct answer a = {0};
	const struct console_asset *f;

	if (!strncmp(path, RECORDING_PREFIX, strlen(RECORDING_PREFIX)) &&
	    (!strcmp(method, "GET") || !strcmp(method, "HEAD"))) {
		return recording(c, conn, path + strlen(RECORDING_PREFIX));
	}
	if (!strncmp(path, API_PREFIX, strlen(API_PREFIX))) {
		api_request(c, conn, &a, method, path + strlen(API_PREFIX), body, body_len, tls);
	}
	else if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		fail(&a, MHD_HTTP_METHOD_NOT_ALLOWED, "UnsupportedProtocol", "The console's pages "
		     "are read with GET.");
	}
	else if (!strcmp(path, "/console")) {
		/* Relative module paths need the trailing slash. */
		struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
									MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret;

		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, "Location", "/console/");
		ret = MHD_queue_response(conn, MHD_HTTP_MOVED_PERMANENTLY, r);
		MHD_destroy_response(r);
		return ret;
	}
	else if ((f = console_asset_find(path))) {
		a.status = MHD_HTTP_OK;
		a.type = f->type;
		a.static_body = f->data;
		a.len = f->len;
	}
	else {
		fail(&a, MHD_HTTP_NOT_FOUND, "ResourceNotFound", "No such console page.");
	}
	if (!a.body && !a.static_body)
		fail(&a, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "Out of memory.");
	return send_answer(conn, &a);
}
