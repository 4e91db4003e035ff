/* Unit tests of the whole request pipeline on a real store: every sign mode, the order of
 * the common errors (spec §4), the envelope, and the business checks of both actions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "base/base.h"
#include "policy/policy.h"
#include "store/store.h"
#include "tenant/tenant.h"

#define NOW_S 1764000000LL
#define APP 1400000000ULL
#define FLOW(id, type) "{\"ivrId\":" #id ",\"name\":\"t\",\"type\":\"" type "\",\"start\":" \
	"\"start\",\"nodes\":[{\"id\":\"start\",\"type\":\"start\",\"next\":\"end\"}," \
	"{\"id\":\"end\",\"type\":\"hangup\"}]}"

struct fixture {
	char dir[64];
	struct store *st;
	struct tenant *t;
	struct api_core *core;
	struct api_hooks hooks;
	struct tenant_provisioned main, other, standard, expired, empty;
	uint64_t mono_us;
	char last_session[33];
	uint64_t last_sdkappid;
	bool last_record;
	unsigned handed;
};

static struct fixture *F;

/* The hook gets the row as committed: it matches the stored one field by field. */
static void session_h(struct store_session *s, bool record, void *arg)
{
	struct fixture *f = arg;
	struct store_session *g = NULL;

	assert_int_equal(store_session_get(f->st, s->sdkappid, s->id, &g), 0);
	assert_string_equal(s->caller, g->caller);
	assert_string_equal(s->callee, g->callee);
	assert_string_equal(s->uui, g->uui);
	assert_string_equal(s->variables, g->variables);
	assert_string_equal(s->request_id, g->request_id);
	assert_true(s->ivr_id == g->ivr_id && s->ivr_version == g->ivr_version &&
		    s->max_ring_s == g->max_ring_s && s->status == g->status &&
		    s->start_ts == g->start_ts && s->created_ms == g->created_ms &&
		    s->account_id == g->account_id && s->direction == g->direction);
	mem_deref(g);
	snprintf(f->last_session, sizeof(f->last_session), "%s", s->id);
	f->last_sdkappid = s->sdkappid;
	f->last_record = record;
	f->handed++;
	mem_deref(s);
}

static void provision(struct fixture *f, uint64_t app, int edition, int64_t expires,
		      bool numbers, struct tenant_provisioned *out)
{
	const struct tenant_ivr_spec ivrs[] = {
		{4600, STORE_IVR_AUTO_OUTBOUND, "auto", FLOW(4600, "autoOutbound")},
		{4601, STORE_IVR_INBOUND, "in", FLOW(4601, "inbound")},
		{4700, STORE_IVR_SURVEY, "survey", FLOW(4700, "survey")},
	};
	/* As `ccc admin` stores them: normalised (the trunk 0 of 0086 0 10... dropped). */
	const char *const nums[] = {"00861012345678", "008613900000002"};
	struct tenant_spec spec = {"acct", app, edition, expires, 0, ivrs, 3,
				   numbers ? nums : NULL, numbers ? 2 : 0};

	struct policy_rules *rules = NULL;
	char *json = NULL;

	assert_int_equal(tenant_provision(f->t, &spec, out), 0);
	/* Calls at any hour and no per-callee limits: these tests are about the API. */
	assert_int_equal(policy_rules_demo(&rules), 0);
	assert_int_equal(policy_rules_json(rules, &json), 0);
	assert_int_equal(store_instance_rules_put(f->st, app, json), 0);
	mem_deref(json);
	mem_deref(rules);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_conf sc = {0};
	struct api_conf ac = {.rate_limit = 20, .replay_cache = 1000, .listen_port = 8080};
	char key[128];

	strcpy(f->dir, "/tmp/cccd-test-api-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(sc.path, sizeof(sc.path), "%s/cccd.db", f->dir);
	snprintf(key, sizeof(key), "%s/master.key", f->dir);
	sc.batch_max = 64;
	assert_int_equal(store_open(&f->st, &sc), 0);
	assert_int_equal(tenant_open(&f->t, f->st, key), 0);
	provision(f, APP, STORE_EDITION_ADVANCED, 0, true, &f->main);
	provision(f, APP + 1, STORE_EDITION_ADVANCED, 0, true, &f->other);
	provision(f, APP + 2, STORE_EDITION_STANDARD, 0, true, &f->standard);
	provision(f, APP + 3, STORE_EDITION_ADVANCED, NOW_S - 10, true, &f->expired);
	provision(f, APP + 4, STORE_EDITION_ADVANCED, NOW_S + 1000, false, &f->empty);
	f->hooks = (struct api_hooks){.session_created = session_h, .arg = f};
	assert_int_equal(api_core_alloc(&f->core, &ac, f->st, f->t, &f->hooks), 0);
	f->mono_us = 1000000000;
	F = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	mem_deref(f->core);
	mem_deref(f->t);
	mem_deref(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A request as a client builds it. */
struct req {
	const char *method;       /* default POST */
	const char *sign;         /* "TC3" (default), "HmacSHA256", "HmacSHA1", "none" */
	const char *action;       /* default CreateIVRSession */
	const char *version;
	const char *params;       /* JSON body (TC3) or form (v1 / GET) */
	const char *id, *key;     /* default: the main tenant */
	int64_t ts;               /* default NOW_S */
	const char *host;         /* Host header, default 127.0.0.1:8080 */
	const char *signed_host;  /* what the client signs, default as TC3/Node: no port */
	const char *service;      /* TC3 scope service, default "127" */
	const char *content_type;
	const char *extra_name, *extra_value; /* one more header */
	const char *nonce;
	int64_t now_s;            /* server clock, default NOW_S */
	bool burst;               /* 1 ms after the previous request (else 100 ms) */
};

static json_t *call(const struct req *q)
{
	const char *method = q->method ? q->method : "POST";
	const char *sign = q->sign ? q->sign : "TC3";
	const char *action = q->action ? q->action : "CreateIVRSession";
	const char *version = q->version ? q->version : "2020-02-10";
	const char *params = q->params ? q->params : "";
	const char *id = q->id ? q->id : F->main.secret_id;
	const char *key = q->key ? q->key : F->main.secret_key;
	const char *host = q->host ? q->host : "127.0.0.1:8080";
	int64_t ts = q->ts ? q->ts : NOW_S;
	bool get = !strcmp(method, "GET");
	struct api_header h[12];
	struct api_http http = {method, "/", h, 0, NULL, 0, 8080};
	static char target[API_MAX_GET + 200];
	char body[8600] = "", auth[512], tsbuf[24], *out;
	json_t *reply;
	size_t n = 0;

	strcpy(target, "/");
	snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
	h[n++] = (struct api_header){"Host", host};
	if (!strcmp(sign, "TC3")) {
		const char *ct = q->content_type ? q->content_type :
				 get ? "application/x-www-form-urlencoded" : "application/json";
		struct sign_header sh[2] = {{"content-type", ct},
					    {"host", q->signed_host ? q->signed_host : "127.0.0.1"}};
		char hash[SIGN_SHA256_HEX], date[11];
		struct sign_tc3 in = {method, "/", get ? params : "", sh, 2, hash, ts, date,
				      q->service ? q->service : "127"};

		sign_tc3_date(ts, date);
		if (get)
			snprintf(target, sizeof(target), "/?%s", params);
		else
			snprintf(body, sizeof(body), "%s", params);
		sign_sha256_hex(body, strlen(body), hash);
		assert_int_equal(sign_tc3_authorization(&in, id, key, auth, sizeof(auth)), 0);
		h[n++] = (struct api_header){"Content-Type", ct};
		h[n++] = (struct api_header){"Authorization", auth};
		h[n++] = (struct api_header){"X-TC-Action", action};
		h[n++] = (struct api_header){"X-TC-Version", version};
		h[n++] = (struct api_header){"X-TC-Timestamp", tsbuf};
		h[n++] = (struct api_header){"X-TC-Region", "null"};
	}
	else if (strcmp(sign, "none")) {
		struct api_form *f = NULL;
		struct api_error e;
		char form[8192], *text = NULL, sig[SIGN_V1_B64], enc[200];
		size_t k = 0;

		snprintf(form, sizeof(form), "%s%sAction=%s&RequestClient=SDK_NODEJS_INTL_EN3.0.1335"
			 "&Nonce=%s&Timestamp=%s&Version=%s&Language=en-US&SecretId=%s&"
			 "SignatureMethod=%s", params, *params ? "&" : "", action,
			 q->nonce ? q->nonce : "32768", tsbuf, version, id, sign);
		assert_int_equal(api_form_decode(form, strlen(form), &f, &e), API_OK);
		assert_int_equal(sign_v1_string(method, q->signed_host ? q->signed_host : host,
						 "/", f->v, f->n, &text), 0);
		sign_v1(!strcmp(sign, "HmacSHA1") ? SIGN_V1_HMAC_SHA1 : SIGN_V1_HMAC_SHA256, key,
			text, strlen(text), sig);
		for (const char *c = sig; *c; c++)
			k += (size_t)snprintf(enc + k, sizeof(enc) - k, *c == '+' ? "%%2B" :
					      *c == '/' ? "%%2F" : *c == '=' ? "%%3D" : "%c", *c);
		mem_deref(text);
		mem_deref(f);
		if (get)
			snprintf(target, sizeof(target), "/?%s&Signature=%s", form, enc);
		else
			snprintf(body, sizeof(body), "%s&Signature=%s", form, enc);
		if (!get)
			h[n++] = (struct api_header){"Content-Type", q->content_type ?
				q->content_type : "application/x-www-form-urlencoded"};
	}
	else {
		snprintf(body, sizeof(body), "%s", params);
		h[n++] = (struct api_header){"Content-Type", q->content_type ? q->content_type :
					     "application/json"};
	}
	if (q->extra_name)
		h[n++] = (struct api_header){q->extra_name, q->extra_value};
	http.target = target;
	http.body = body;
	http.body_len = strlen(body);
	http.n_headers = n;
	F->mono_us += q->burst ? 1000 : 100000;
	out = api_core_handle(F->core, &http, (q->now_s ? q->now_s : NOW_S) * 1000,
			      F->mono_us);
	assert_non_null(out);
	reply = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(reply);
	return reply;
}

static bool uuid_ok(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx";

	if (!s || strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		if (shape[i] == 'x' ? !strchr("0123456789abcdef", s[i]) : s[i] != shape[i])
			return false;
	}
	return true;
}

/* The error code of a reply (NULL for a success), checking the envelope. */
static const char *code_of(json_t *reply, const char **msgp)
{
	json_t *r = json_object_get(reply, "Response"), *err = json_object_get(r, "Error");

	assert_non_null(r);
	assert_true(uuid_ok(json_string_value(json_object_get(r, "RequestId"))));
	if (!err)
		return NULL;
	assert_int_equal(json_object_size(r), 2);
	if (msgp)
		*msgp = json_string_value(json_object_get(err, "Message"));
	return json_string_value(json_object_get(err, "Code"));
}

static void expect(const struct req *q, const char *code, const char *needle)
{
	json_t *reply = call(q);
	const char *msg = "", *c = code_of(reply, &msg);

	if (!c || strcmp(c, code) || (needle && !strstr(msg, needle)))
		fail_msg("want %s '%s', got %s '%s'", code, needle ? needle : "", c ? c : "ok",
			 msg);
	json_decref(reply);
}

#define CREATE_JSON "{\"SdkAppId\":1400000000,\"Callee\":\"+8613012345678\",\"IVRId\":4600," \
	"\"Variables\":[{\"Key\":\"name\",\"Value\":\"Li Lei\"}],\"UUI\":\"foo bar\"," \
	"\"MaxRingTimeoutSecond\":15}"
#define CREATE_FORM "SdkAppId=1400000000&Callee=%2B8613012345678&IVRId=4600&" \
	"Variables.0.Key=name&Variables.0.Value=Li%20Lei&UUI=foo+bar&MaxRingTimeoutSecond=15"

static void create_and_describe(const struct req *q)
{
	struct store_session *s = NULL;
	json_t *reply = call(q), *d, *sess;
	const char *id;
	char params[200], caller[33];
	unsigned handed = F->handed;

	if (code_of(reply, NULL))
		fail_msg("%s %s: %s", q->sign ? q->sign : "TC3", q->method ? q->method : "POST",
			 json_dumps(reply, 0));
	id = json_string_value(json_object_get(json_object_get(reply, "Response"), "SessionId"));
	assert_non_null(id);
	assert_int_equal(strlen(id), 32);
	assert_string_equal(F->last_session, id);
	assert_int_equal(F->last_sdkappid, APP);
	assert_int_equal(F->handed, handed);

	/* What was stored. */
	assert_int_equal(store_session_get(F->st, APP, id, &s), 0);
	assert_string_equal(s->callee, "008613012345678");
	/* No Callers: the pool's least recently used number. */
	assert_true(!strcmp(s->caller, "00861012345678") || !strcmp(s->caller, "008613900000002"));
	snprintf(caller, sizeof(caller), "%s", s->caller);
	assert_string_equal(s->uui, "foo bar");
	assert_string_equal(s->variables, "[{\"Key\":\"name\",\"Value\":\"Li Lei\"}]");
	assert_int_equal(s->max_ring_s, 15);
	assert_int_equal(s->ivr_id, 4600);
	assert_int_equal(s->ivr_version, 1);
	assert_int_equal(s->direction, 1);
	assert_int_equal(s->start_ts, NOW_S);
	assert_int_equal(s->created_ms, NOW_S * 1000);
	assert_int_equal(s->status, STORE_STATUS_RINGING);
	assert_true(uuid_ok(s->request_id));
	assert_string_equal(s->request_id, json_string_value(json_object_get(
		json_object_get(reply, "Response"), "RequestId")));
	mem_deref(s);

	snprintf(params, sizeof(params), "{\"SdkAppId\":1400000000,\"SessionId\":\"%s\"}", id);
	d = call(&(struct req){.action = "DescribeTelSession", .params = params});
	assert_null(code_of(d, NULL));
	sess = json_object_get(json_object_get(d, "Response"), "Session");
	assert_int_equal(json_object_size(sess), 15);
	assert_string_equal(json_string_value(json_object_get(sess, "SessionID")), id);
	assert_string_equal(json_string_value(json_object_get(sess, "SessionStatus")), "ringing");
	assert_string_equal(json_string_value(json_object_get(sess, "Callee")), "008613012345678");
	assert_string_equal(json_string_value(json_object_get(sess, "Caller")), caller);
	assert_true(json_is_integer(json_object_get(sess, "StartTimestamp")));
	assert_int_equal(json_integer_value(json_object_get(sess, "StartTimestamp")), NOW_S);
	assert_true(json_is_integer(json_object_get(sess, "RingTimestamp")));
	assert_true(json_is_integer(json_object_get(sess, "AcceptTimestamp")));
	assert_int_equal(json_integer_value(json_object_get(sess, "Direction")), 1);
	assert_true(json_is_string(json_object_get(sess, "RoomID")));
	assert_true(json_is_string(json_object_get(sess, "StaffEmail")));
	assert_true(json_is_string(json_object_get(sess, "StaffNumber")));
	assert_true(json_is_string(json_object_get(sess, "OutBoundCaller")));
	assert_true(json_is_string(json_object_get(sess, "OutBoundCallee")));
	assert_true(json_is_string(json_object_get(sess, "ProtectedCaller")));
	assert_true(json_is_string(json_object_get(sess, "ProtectedCallee")));
	json_decref(d);

	/* Another tenant cannot see it. */
	d = call(&(struct req){.action = "DescribeTelSession", .params = params,
			       .id = F->other.secret_id, .key = F->other.secret_key});
	assert_string_equal(code_of(d, NULL), "InvalidParameterValue.InstanceNotExist");
	json_decref(d);
	json_decref(reply);
}

static void test_sign_modes(void **state)
{
	(void)state;
	/* TC3 POST JSON as the Node SDK (host without port, service "127"). */
	create_and_describe(&(struct req){.params = CREATE_JSON});
	/* TC3, Go SDK shape (host with port, service ccc) and localhost endpoint. */
	create_and_describe(&(struct req){.params = CREATE_JSON, .signed_host = "127.0.0.1:8080",
					  .service = "ccc"});
	create_and_describe(&(struct req){.params = CREATE_JSON, .host = "localhost:8080",
					  .signed_host = "localhost", .service = "localhost:8080"});
	/* Content-Type with charset. */
	create_and_describe(&(struct req){.params = CREATE_JSON,
					  .content_type = "application/json; charset=utf-8"});
	/* TC3 GET and TC3 POST with a form body. */
	create_and_describe(&(struct req){.method = "GET", .params = CREATE_FORM});
	create_and_describe(&(struct req){.params = CREATE_FORM,
					  .content_type = "application/x-www-form-urlencoded"});
	/* v1 in every form. */
	create_and_describe(&(struct req){.sign = "HmacSHA256", .params = CREATE_FORM});
	create_and_describe(&(struct req){.sign = "HmacSHA1", .params = CREATE_FORM,
					  .nonce = "0"});
	create_and_describe(&(struct req){.sign = "HmacSHA256", .method = "GET",
					  .params = CREATE_FORM, .nonce = "1"});
	create_and_describe(&(struct req){.sign = "HmacSHA1", .method = "GET",
					  .params = CREATE_FORM, .nonce = "2"});
	/* v1 with the port signed but Host sent without it (node-fetch, port 80 style). */
	create_and_describe(&(struct req){.sign = "HmacSHA256", .params = CREATE_FORM,
					  .host = "127.0.0.1", .signed_host = "127.0.0.1:8080",
					  .nonce = "3"});
}

static void test_common_errors(void **state)
{
	char big[API_MAX_GET + 100];

	(void)state;
	expect(&(struct req){.method = "PUT", .params = CREATE_JSON}, "UnsupportedProtocol",
	       "PUT");
	expect(&(struct req){.method = "DELETE"}, "UnsupportedProtocol", NULL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = 'x', big[1] = '=';
	expect(&(struct req){.method = "GET", .params = big}, "RequestSizeLimitExceeded", NULL);
	expect(&(struct req){.params = "{\"SdkAppId\":"}, "InvalidRequest", "not valid JSON");
	expect(&(struct req){.params = "[1]"}, "InvalidRequest", "must be a JSON object");
	expect(&(struct req){.params = "{\"a\":1,\"a\":2}"}, "InvalidRequest", "not valid JSON");
	expect(&(struct req){.params = "a=%zz&Signature=x", .sign = "none",
			     .content_type = "application/x-www-form-urlencoded"},
	       "InvalidRequest", "percent");
	expect(&(struct req){.params = "a=1&a=2&Signature=x", .sign = "none",
			     .content_type = "application/x-www-form-urlencoded"},
	       "InvalidRequest", "more than once");
	expect(&(struct req){.params = CREATE_JSON, .content_type = "text/plain"},
	       "InvalidRequest", "Content-Type");
	expect(&(struct req){.params = CREATE_JSON, .sign = "none"},
	       "AuthFailure.InvalidAuthorization", "not signed");
	expect(&(struct req){.params = CREATE_JSON, .extra_name = "Authorization",
			     .extra_value = "Basic abc", .sign = "none"},
	       "AuthFailure.InvalidAuthorization", "TC3");
	expect(&(struct req){.params = CREATE_JSON, .ts = NOW_S - 301},
	       "AuthFailure.SignatureExpire", NULL);
	expect(&(struct req){.params = CREATE_JSON, .ts = NOW_S + 301},
	       "AuthFailure.SignatureExpire", NULL);
	expect(&(struct req){.params = CREATE_FORM, .sign = "HmacSHA256", .ts = NOW_S - 1000},
	       "AuthFailure.SignatureExpire", NULL);
	/* Expiry is checked before the key: an unknown id with an old time is "expired". */
	expect(&(struct req){.params = CREATE_JSON, .ts = NOW_S - 1000, .id = "AKIDnope"},
	       "AuthFailure.SignatureExpire", NULL);
	expect(&(struct req){.params = CREATE_JSON, .id = "XYZ123"},
	       "AuthFailure.InvalidSecretId", NULL);
	expect(&(struct req){.params = CREATE_JSON, .id = "AKIDnotakey0000000000000000000000000"},
	       "AuthFailure.SecretIdNotFound", NULL);
	expect(&(struct req){.params = CREATE_FORM, .sign = "HmacSHA1",
			     .id = "AKIDnotakey0000000000000000000000000"},
	       "AuthFailure.SecretIdNotFound", NULL);
	expect(&(struct req){.params = CREATE_JSON, .key = "wrongwrongwrongwrongwrongwrong12"},
	       "AuthFailure.SignatureFailure", NULL);
	expect(&(struct req){.params = CREATE_FORM, .sign = "HmacSHA256",
			     .key = "wrongwrongwrongwrongwrongwrong12"},
	       "AuthFailure.SignatureFailure", NULL);
	expect(&(struct req){.params = CREATE_FORM, .sign = "HmacMD5"},
	       "AuthFailure.SignatureFailure", "SignatureMethod");
	/* The server's Host is what was signed: another host fails. */
	expect(&(struct req){.params = CREATE_JSON, .signed_host = "10.0.0.1"},
	       "AuthFailure.SignatureFailure", NULL);
	expect(&(struct req){.params = CREATE_FORM, .sign = "HmacSHA256",
			     .signed_host = "10.0.0.1:8080"}, "AuthFailure.SignatureFailure", NULL);
	/* Version and action are checked after the signature. */
	expect(&(struct req){.params = CREATE_JSON, .version = "2017-03-12"}, "NoSuchVersion", NULL);
	expect(&(struct req){.params = "{}", .action = "DescribeInstances"}, "InvalidAction",
	       "DescribeInstances");
	expect(&(struct req){.params = "{}", .action = "DescribeInstances",
			     .key = "wrongwrongwrongwrongwrongwrong12"},
	       "AuthFailure.SignatureFailure", NULL);
	/* Temporary credentials are not issued here. */
	expect(&(struct req){.params = CREATE_JSON, .extra_name = "X-TC-Token",
			     .extra_value = "abc"}, "AuthFailure.TokenFailure", NULL);
	expect(&(struct req){.params = CREATE_JSON, .extra_name = "X-TC-Content-SHA256",
			     .extra_value = "UNSIGNED-PAYLOAD"}, "AuthFailure.SignatureFailure",
	       "Unsigned");
}

static void test_tc3_header_syntax(void **state)
{
	struct api_header h[6] = {
		{"Host", "127.0.0.1:8080"}, {"Content-Type", "application/json"},
		{"X-TC-Action", "CreateIVRSession"}, {"X-TC-Version", "2020-02-10"},
		{"X-TC-Timestamp", "1764000000"}, {"Authorization", NULL},
	};
	struct api_http http = {"POST", "/", h, 6, "{}", 2, 8080};
	static const char *const bad[] = {
		"TC3-HMAC-SHA256",
		"TC3-HMAC-SHA256Credential=a/b/c/tc3_request",
		"TC3-HMAC-SHA256 Credential=AKID/2025-11-24/ccc/tc3_request, SignedHeaders=host",
		"TC3-HMAC-SHA256 Credential=AKID/2025-11-24/ccc/other, SignedHeaders=host, "
		"Signature=1939fdc9092a9bb14e42c843c80f8ba7b90da4696d84378bfbfb3d881bf3e6a0",
		"TC3-HMAC-SHA256 Credential=AKID/2025-11-24/tc3_request, SignedHeaders=host, "
		"Signature=1939fdc9092a9bb14e42c843c80f8ba7b90da4696d84378bfbfb3d881bf3e6a0",
		"TC3-HMAC-SHA256 Credential=AKID/2025-11-24/ccc/tc3_request, SignedHeaders=Host, "
		"Signature=1939fdc9092a9bb14e42c843c80f8ba7b90da4696d84378bfbfb3d881bf3e6a0",
		"TC3-HMAC-SHA256 Credential=AKID/2025-11-24/ccc/tc3_request, SignedHeaders=host, "
		"Signature=XYZ",
		"TC3-HMAC-SHA256 Credential=AKID/2025-11-24/ccc/tc3_request, SignedHeaders=host, "
		"Signature=1939fdc9092a9bb14e42c843c80f8ba7b90da4696d84378bfbfb3d881bf3e6a0, "
		"Signature=1939fdc9092a9bb14e42c843c80f8ba7b90da4696d84378bfbfb3d881bf3e6a0",
		"TC3-HMAC-SHA256 Credential=AKID/2025-11-24/ccc/tc3_request, SignedHeaders=;host, "
		"Signature=1939fdc9092a9bb14e42c843c80f8ba7b90da4696d84378bfbfb3d881bf3e6a0",
		NULL,
	};

	(void)state;
	for (size_t i = 0; bad[i]; i++) {
		char *out;
		json_t *reply;

		h[5].value = bad[i];
		out = api_core_handle(F->core, &http, NOW_S * 1000, F->mono_us += 1000);
		reply = json_loads(out, 0, NULL);
		free(out);
		if (strcmp(code_of(reply, NULL), "AuthFailure.InvalidAuthorization"))
			fail_msg("%s: %s", bad[i], code_of(reply, NULL));
		json_decref(reply);
	}
	/* Missing public headers name themselves; a bad timestamp is a parameter error. */
	{
		struct req q = {.params = CREATE_JSON};
		json_t *reply;
		char *out;
		const char *msg;

		h[5].value = "TC3-HMAC-SHA256 Credential=AKID/2025-11-24/ccc/tc3_request, "
			     "SignedHeaders=host, Signature=1939fdc9092a9bb14e42c843c80f8ba7b90da4"
			     "696d84378bfbfb3d881bf3e6a0";
		h[2].name = "X-Other";
		out = api_core_handle(F->core, &http, NOW_S * 1000, F->mono_us += 1000);
		reply = json_loads(out, 0, NULL);
		free(out);
		assert_string_equal(code_of(reply, &msg), "MissingParameter");
		assert_non_null(strstr(msg, "`X-TC-Action`"));
		json_decref(reply);
		h[2].name = "X-TC-Action";
		h[4].value = "17640000OO";
		out = api_core_handle(F->core, &http, NOW_S * 1000, F->mono_us += 1000);
		reply = json_loads(out, 0, NULL);
		free(out);
		assert_string_equal(code_of(reply, &msg), "InvalidParameter");
		assert_non_null(strstr(msg, "X-TC-Timestamp"));
		json_decref(reply);
		(void)q;
	}
	/* Credential date must be the timestamp's date. */
	{
		struct sign_header sh[2] = {{"content-type", "application/json"},
					    {"host", "127.0.0.1"}};
		char hash[SIGN_SHA256_HEX], auth[400], *out;
		struct sign_tc3 in = {"POST", "/", "", sh, 2, hash, NOW_S, "2025-11-23", "127"};
		json_t *reply;

		h[4].value = "1764000000";
		sign_sha256_hex("{}", 2, hash);
		sign_tc3_authorization(&in, F->main.secret_id, F->main.secret_key, auth,
				       sizeof(auth));
		h[5].value = auth;
		out = api_core_handle(F->core, &http, NOW_S * 1000, F->mono_us += 1000);
		reply = json_loads(out, 0, NULL);
		free(out);
		assert_string_equal(code_of(reply, NULL), "AuthFailure.SignatureFailure");
		json_decref(reply);
	}
}

static void test_v1_syntax(void **state)
{
	(void)state;
	expect(&(struct req){.params = CREATE_FORM, .sign = "HmacSHA256", .nonce = "-1"},
	       "InvalidParameter", "`Nonce`");
	expect(&(struct req){.params = CREATE_FORM, .sign = "HmacSHA256", .nonce = ""},
	       "MissingParameter", "`Nonce`");
	expect(&(struct req){.params = CREATE_FORM, .sign = "HmacSHA256", .id = ""},
	       "MissingParameter", "`SecretId`");
	expect(&(struct req){.params = CREATE_FORM, .sign = "HmacSHA256", .action = ""},
	       "MissingParameter", "`Action`");
	/* A replayed v1 request is refused; a new nonce passes. */
	{
		struct req q = {.params = "SdkAppId=1400000000&SessionId=x", .sign = "HmacSHA256",
				.action = "DescribeTelSession", .nonce = "777"};

		expect(&q, "FailedOperation.SessionNotExists", NULL);
		expect(&q, "AuthFailure.SignatureFailure", "already received");
		q.nonce = "778";
		expect(&q, "FailedOperation.SessionNotExists", NULL);
	}
}

static void test_params_and_business(void **state)
{
	struct req q = {0};

	(void)state;
	expect(&(struct req){.params = "{\"SdkAppId\":1400000000,\"IVRId\":4600}"},
	       "MissingParameter", "The request is missing a required parameter `Callee`.");
	expect(&(struct req){.params = "SdkAppId=1400000000&IVRId=4600", .sign = "HmacSHA1",
			     .nonce = "11"}, "MissingParameter", "`Callee`");
	expect(&(struct req){.params = "{\"SdkAppId\":\"x\",\"IVRId\":4600,\"Callee\":\"008612300000000\"}"},
	       "InvalidParameter", "`SdkAppId`");
	expect(&(struct req){.params = "{\"SdkAppId\":1400000000,\"IVRId\":4600,"
			     "\"Callee\":\"12a45\"}"}, "InvalidParameterValue", "`Callee`");
	expect(&(struct req){.params = "{\"SdkAppId\":1400000000,\"IVRId\":4600,"
			     "\"Callee\":\"008612300000000\",\"Bogus\":1}"}, "UnknownParameter", "`Bogus`");
	expect(&(struct req){.params = "SdkAppId=1400000000&IVRId=4600&Callee=008612300000000&Bogus=1",
			     .sign = "HmacSHA256", .nonce = "12"}, "UnknownParameter", "`Bogus`");
	expect(&(struct req){.params = "SdkAppId=1400000000&IVRId=4600&Callee=008612300000000&Callers.1=1",
			     .sign = "HmacSHA256", .nonce = "13"}, "InvalidParameter", "no element 0");

	/* Business checks, in order. */
	expect(&(struct req){.params = "{\"SdkAppId\":1400000001,\"IVRId\":4600,"
			     "\"Callee\":\"008612300000000\"}"}, "InvalidParameterValue.InstanceNotExist", NULL);
	expect(&(struct req){.params = "{\"SdkAppId\":1499999999,\"IVRId\":4600,"
			     "\"Callee\":\"008612300000000\"}"}, "InvalidParameterValue.InstanceNotExist", NULL);
	q = (struct req){.params = "{\"SdkAppId\":1400000002,\"IVRId\":4600,\"Callee\":\"008612300000000\"}",
			 .id = F->standard.secret_id, .key = F->standard.secret_key};
	expect(&q, "FailedOperation.PermissionDenied", "Advanced");
	q = (struct req){.params = "{\"SdkAppId\":1400000003,\"IVRId\":9999,\"Callee\":\"008612300000000\"}",
			 .id = F->expired.secret_id, .key = F->expired.secret_key};
	expect(&q, "LimitExceeded.BasePackageExpired", NULL);
	expect(&(struct req){.params = "{\"SdkAppId\":1400000000,\"IVRId\":9999,"
			     "\"Callee\":\"008612300000000\"}"}, "InvalidParameterValue", "does not exist");
	expect(&(struct req){.params = "{\"SdkAppId\":1400000000,\"IVRId\":4700,"
			     "\"Callee\":\"008612300000000\"}"}, "InvalidParameterValue", "survey");
	expect(&(struct req){.params = "{\"SdkAppId\":1400000000,\"IVRId\":4600,"
			     "\"Callee\":\"008612300000000\",\"Callers\":[\"0099123\",\"+861234\"]}"},
	       "FailedOperation.NoCallOutNumber", NULL);
	q = (struct req){.params = "{\"SdkAppId\":1400000004,\"IVRId\":4601,\"Callee\":\"008612300000000\"}",
			 .id = F->empty.secret_id, .key = F->empty.secret_key};
	expect(&q, "FailedOperation.NoCallOutNumber", "no outbound number");
	expect(&(struct req){.action = "DescribeTelSession",
			     .params = "{\"SdkAppId\":1400000000,\"SessionId\":\"nope\"}"},
	       "FailedOperation.SessionNotExists", "nope");
	expect(&(struct req){.action = "DescribeTelSession",
			     .params = "{\"SdkAppId\":1400000001,\"SessionId\":\"nope\"}"},
	       "InvalidParameterValue.InstanceNotExist", NULL);

	/* Callers in order: the first owned one is chosen; "+86..." matches "0086...". */
	{
		json_t *r = call(&(struct req){.params = "{\"SdkAppId\":1400000000,\"IVRId\":4601,"
			"\"Callee\":\"008612300000000\",\"Callers\":[\"0099123\",\"+8613900000002\","
			"\"008601012345678\"]}"});
		struct store_session *s = NULL;
		const char *id = json_string_value(json_object_get(json_object_get(r, "Response"),
								   "SessionId"));

		if (!id)
			fail_msg("%s", json_dumps(r, 0));
		assert_int_equal(store_session_get(F->st, APP, id, &s), 0);
		assert_string_equal(s->caller, "008613900000002");
		assert_string_equal(s->callee, "008612300000000");
		assert_string_equal(s->variables, "[]");
		assert_string_equal(s->uui, "");
		assert_int_equal(s->max_ring_s, 0);
		mem_deref(s);
		json_decref(r);
	}
}

/* The instance's record flag, as this request read it, goes with the session to the
 * control loop (which does not read the instance again), and a change reaches the next
 * request. */
static void test_record_flag(void **state)
{
	static const char params[] = "{\"SdkAppId\":1400000000,\"IVRId\":4600,"
				     "\"Callee\":\"008612300000009\"}";
	struct store_instance inst;
	json_t *r;

	(void)state;
	for (int i = 0; i < 3; i++) {
		bool record = i == 1;

		assert_int_equal(store_instance_get(F->st, APP, &inst), 0);
		inst.record_calls = record;
		assert_int_equal(store_instance_put(F->st, &inst), 0);
		F->last_record = !record;
		r = call(&(struct req){.params = params});
		assert_null(code_of(r, NULL));
		assert_true(F->last_record == record);
		json_decref(r);
	}
}

/* Whether an IVR uses AI is decided per flow version (and remembered per API thread): a
 * new version of the same IVR with or without a speech node changes the answer at once. */
static void test_ai_per_version(void **state)
{
	static const char plain[] = FLOW(4610, "autoOutbound");
	static const char speech[] = "{\"ivrId\":4610,\"name\":\"t\",\"type\":"
		"\"autoOutbound\",\"start\":\"start\",\"nodes\":[{\"id\":\"start\",\"type\":"
		"\"start\",\"next\":\"ask\"},{\"id\":\"ask\",\"type\":\"speech\"},"
		"{\"id\":\"end\",\"type\":\"hangup\"}]}";
	static const char params[] = "{\"SdkAppId\":1400000000,\"IVRId\":4610,"
				     "\"Callee\":\"008612300000010\"}";
	const char *docs[] = {plain, plain, speech, speech, plain};
	uint32_t version;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		assert_int_equal(store_ivr_put(F->st, APP, 4610, "ai", STORE_IVR_AUTO_OUTBOUND,
					       docs[i], &version), 0);
		assert_int_equal(version, i + 1);
		/* Twice per version: the second answer comes from the thread's memo. */
		for (int k = 0; k < 2; k++) {
			if (docs[i] == speech) {
				expect(&(struct req){.params = params},
				       "FailedOperation.AIConcurrentNoPackage", "no AI licence");
			}
			else {
				json_t *r = call(&(struct req){.params = params});
				assert_null(code_of(r, NULL));
				json_decref(r);
			}
		}
	}
}

static void test_rate_limit(void **state)
{
	unsigned ok = 0, limited = 0;

	(void)state;
	/* 1 ms apart: 30 requests within one second. */
	for (unsigned i = 0; i < 30; i++) {
		json_t *r = call(&(struct req){.action = "DescribeTelSession",
			.params = "{\"SdkAppId\":1400000000,\"SessionId\":\"x\"}",
			.id = F->other.secret_id, .key = F->other.secret_key, .burst = true});
		const char *c = code_of(r, NULL);

		if (!strcmp(c, "RequestLimitExceeded"))
			limited++;
		else if (!strcmp(c, "InvalidParameterValue.InstanceNotExist"))
			ok++;
		json_decref(r);
	}
	assert_int_equal(ok, 20);
	assert_int_equal(limited, 10);
	/* Another action of the same account is not limited. */
	expect(&(struct req){.params = "{}", .id = F->other.secret_id, .key = F->other.secret_key,
			     .burst = true}, "MissingParameter", NULL);
	/* A second later the window has room again. */
	F->mono_us += 1000000;
	expect(&(struct req){.action = "DescribeTelSession", .id = F->other.secret_id,
			     .key = F->other.secret_key,
			     .params = "{\"SdkAppId\":1400000000,\"SessionId\":\"x\"}"},
	       "InvalidParameterValue.InstanceNotExist", NULL);
}

static void test_envelope(void **state)
{
	json_t *a = call(&(struct req){.params = "{}", .action = "Nope"});
	json_t *b = call(&(struct req){.params = "{}", .action = "Nope"});
	const char *ra = json_string_value(json_object_get(json_object_get(a, "Response"),
							   "RequestId"));
	const char *rb = json_string_value(json_object_get(json_object_get(b, "Response"),
							   "RequestId"));
	struct api_error e = {API_INVALID_REQUEST, "quote \" and \\ and \n"};
	char *out = api_reply_error(&e, "6bb56a09-2787-40bc-80c5-dc6dab783eff");

	(void)state;
	assert_string_not_equal(ra, rb);
	assert_string_equal(out, "{\"Response\":{\"Error\":{\"Code\":\"InvalidRequest\","
			    "\"Message\":\"quote \\\" and \\\\ and \\n\"},\"RequestId\":"
			    "\"6bb56a09-2787-40bc-80c5-dc6dab783eff\"}}");
	free(out);
	out = api_reply_ok(json_pack("{s:s}", "SessionId", "6bb56a09278740bc80c5dc6dab783eff"),
			   "6bb56a09-2787-40bc-80c5-dc6dab783eff");
	assert_string_equal(out, "{\"Response\":{\"SessionId\":\"6bb56a09278740bc80c5dc6dab783eff\","
			    "\"RequestId\":\"6bb56a09-2787-40bc-80c5-dc6dab783eff\"}}");
	free(out);
	json_decref(a);
	json_decref(b);
	for (int c = 1; c < API_CODE_COUNT; c++)
		assert_true(strlen(api_code_name((enum api_code)c)) > 5);
}

/* jansson's live allocations, counted through its allocator hooks. */
static long json_live;

static void *json_count_malloc(size_t n)
{
	void *p = malloc(n);

	if (p)
		json_live++;
	return p;
}

static void json_count_free(void *p)
{
	if (p)
		json_live--;
	free(p);
}

/* DescribeAutoCalloutTask once kept its whole reply tree (json_object_update took a new
 * reference to the object it was given): 75 MB per Describe of 100,000 callees. A
 * request's JSON is all freed when its reply is out. */
static void test_task_describe_frees_its_tree(void **state)
{
	json_t *reply;
	const char *id_text;
	char params[128];
	long before;

	(void)state;
	reply = call(&(struct req){.action = "CreateAutoCalloutTask", .params =
		"{\"SdkAppId\":1400000000,\"NotBefore\":1900000000,\"IvrId\":4600,"
		"\"Callers\":[\"00861012345678\"],\"Callees\":[\"008613800000001\","
		"\"008613800000002\",\"008613800000003\"]}"});
	assert_null(code_of(reply, NULL));
	snprintf(params, sizeof(params), "{\"SdkAppId\":1400000000,\"TaskId\":%lld}",
		 (long long)json_integer_value(json_object_get(json_object_get(reply, "Response"),
							       "TaskId")));
	json_decref(reply);
	json_set_alloc_funcs(json_count_malloc, json_count_free);
	before = json_live;
	reply = call(&(struct req){.action = "DescribeAutoCalloutTask", .params = params});
	assert_null(code_of(reply, NULL));
	id_text = json_string_value(json_object_get(json_array_get(json_object_get(
		json_object_get(reply, "Response"), "Callees"), 2), "Callee"));
	assert_non_null(id_text);
	assert_string_equal(id_text, "008613800000003");
	json_decref(reply);
	/* None left: the reply's text is not jansson's (dump.c; call() frees it). */
	assert_int_equal(json_live, before);
	json_set_alloc_funcs(malloc, free);
}

/* RequestIds come from a per-thread buffer refilled every 256: across refills each is a
 * well-formed v4 UUID and none repeats. */
static void test_request_ids(void **state)
{
	enum { N = 1000 };
	static char ids[N][37];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		char *u = ids[i];

		assert_int_equal(ids_uuid(u), 0);
		assert_int_equal(strlen(u), 36);
		for (size_t k = 0; k < 36; k++) {
			if (k == 8 || k == 13 || k == 18 || k == 23)
				assert_int_equal(u[k], '-');
			else
				assert_non_null(strchr("0123456789abcdef", u[k]));
		}
		assert_int_equal(u[14], '4');
		assert_non_null(strchr("89ab", u[19]));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(ids[j], u);
	}
}

/* The envelope is written by cccd (dump.c), not json_dumps: the same bytes as jansson's
 * compact dump of the same tree, for every JSON type, every escape, UTF-8, an embedded NUL,
 * empty and nested containers, the integer extremes, reals, and keys in insertion order. */
static void test_reply_dump_is_jansson(void **state)
{
	static const char ctl[] = "q\"\\\b\f\n\r\t\x01\x1f\x7f/\xc3\xa9\xe4\xb8\xad\xf0\x9f\x93\x9e";
	json_t *inner = json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:b, s:b, s:n, s:{}, s:[],"
				  " s:[i, {s:[s]}, []], s:s#, s:s}",
				  "Zeta", "first", "Min", (json_int_t)INT64_MIN,
				  "Max", (json_int_t)INT64_MAX, "Zero", (json_int_t)0,
				  "Real", 0.1, "Whole", 3.0, "T", 1, "F", 0, "N",
				  "EmptyObj", "EmptyArr", "Nested", -7, "a\"b", "\t", "Nul",
				  "a\0b", 3, "Ctl", ctl);
	json_t *env = json_object();
	char *want, *got = NULL;

	(void)state;
	assert_non_null(inner);
	assert_int_equal(json_object_set_new(inner, "k\u00e9y\n", json_string("v")), 0);
	assert_int_equal(json_object_set(env, "Response", inner), 0);
	assert_int_equal(json_object_set_new(inner, "RequestId", json_string("r-1")), 0);
	want = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_int_equal(json_object_del(inner, "RequestId"), 0);
	assert_int_equal(api_reply_dump(inner, "r-1", &got), 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
	/* An empty object, and a RequestId of the action's own left out for ours. */
	assert_int_equal(api_reply_dump(json_object_get(inner, "EmptyObj"), "r-2", &got), 0);
	assert_string_equal(got, "{\"Response\":{\"RequestId\":\"r-2\"}}");
	free(got);
	assert_int_equal(json_object_set_new(inner, "RequestId", json_string("theirs")), 0);
	assert_int_equal(api_reply_dump(json_object_get(inner, "Nested"), "r-3", &got), EINVAL);
	assert_int_equal(api_reply_dump(inner, "r-3", &got), 0);
	assert_null(strstr(got, "theirs"));
	assert_non_null(strstr(got, ",\"RequestId\":\"r-3\"}}"));
	free(got);
	json_decref(env);
	json_decref(inner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_modes),
		cmocka_unit_test(test_common_errors),
		cmocka_unit_test(test_tc3_header_syntax),
		cmocka_unit_test(test_v1_syntax),
		cmocka_unit_test(test_params_and_business),
		cmocka_unit_test(test_record_flag),
		cmocka_unit_test(test_ai_per_version),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_task_describe_frees_its_tree),
		cmocka_unit_test(test_request_ids),
		cmocka_unit_test(test_reply_dump_is_jansson),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
