/* request: one HTTP request → the parsed API request (scheme, public parameters, body),
 * and its signature check (spec §4 steps 1-5, §5, §6). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_fmt.h>
#include "api/api_int.h"

enum { TC3_MAX_SIGNED_HEADERS = 16, TIME_WINDOW_S = 300 };

const char *api_http_header(const struct api_http *h, const char *name)
{
	for (size_t i = 0; i < h->n_headers; i++) {
		if (!strcasecmp(h->headers[i].name, name))
			return h->headers[i].value;
	}
	return NULL;
}

bool api_http_is_tc3(const char *authorization)
{
	return authorization && !strncmp(authorization, "TC3-HMAC-SHA256", 15);
}

static void request_destructor(void *arg)
{
	struct api_request *r = arg;

	mem_deref(r->path);
	mem_deref(r->form);
	json_decref(r->json);
	mem_deref(r->auth);
}

/* A media type without its parameters, compared case-insensitively. */
static bool media_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return !strncasecmp(ct, type, n) && (!ct[n] || ct[n] == ';' || ct[n] == ' ' ||
					     ct[n] == '\t');
}

/* Unix seconds as the SDKs send them: 1 to 12 digits. */
static int parse_ts(const char *s, int64_t *tsp)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= 12 || s[i] < '0' || s[i] > '9')
			return EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (!i)
		return EINVAL;
	*tsp = v;
	return 0;
}

static bool all_digits(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= max || s[i] < '0' || s[i] > '9')
			return false;
	}
	return i > 0;
}

static bool lower_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return i == 64;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=hex".
 * The service may contain ':' (the Node SDK's "localhost:8080"), never '/'. */
static enum api_code tc3_auth_parse(struct api_request *r, const char *value,
				    struct api_error *e)
{
	char *p, *part, *save = NULL, *cred = NULL, *slash[3];
	int err = str_dup(&r->auth, value);

	if (err)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	p = r->auth + 15;
	if (*p != ' ')
		return api_fail(e, API_AUTH_INVALID_AUTHORIZATION, "The Authorization header "
				"must start with the algorithm TC3-HMAC-SHA256.");
	for (part = strtok_r(p, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *kv = trim(part), *eq = strchr(kv, '=');
		const char **slot;

		if (!eq)
			goto bad;
		*eq++ = '\0';
		if (!strcmp(kv, "Credential"))
			slot = (const char **)&cred;
		else if (!strcmp(kv, "SignedHeaders"))
			slot = &r->signed_headers;
		else if (!strcmp(kv, "Signature"))
			slot = &r->tc3_signature;
		else
			goto bad;
		if (*slot || !*eq)
			goto bad;
		*slot = eq;
	}
	if (!cred || !r->signed_headers || !r->tc3_signature)
		goto bad;
	slash[0] = strchr(cred, '/');
	slash[1] = slash[0] ? strchr(slash[0] + 1, '/') : NULL;
	slash[2] = slash[1] ? strchr(slash[1] + 1, '/') : NULL;
	if (!slash[2] || strcmp(slash[2] + 1, "tc3_request"))
		goto bad;
	*slash[0] = *slash[1] = *slash[2] = '\0';
	r->secret_id = cred;
	r->date = slash[0] + 1;
	r->service = slash[1] + 1;
	if (!*r->secret_id || strlen(r->date) != 10 || !*r->service)
		goto bad;
	for (const char *h = r->signed_headers; *h; h++) {
		if (!((*h >= 'a' && *h <= 'z') || (*h >= '0' && *h <= '9') || *h == '-' ||
		      (*h == ';' && h != r->signed_headers && h[1] && h[1] != ';')))
			goto bad;
	}
	if (!lower_hex64(r->tc3_signature))
		goto bad;
	return API_OK;
bad:
	return api_fail(e, API_AUTH_INVALID_AUTHORIZATION, "The Authorization header is "
			"malformed: expected TC3-HMAC-SHA256 Credential=SecretId/Date/Service/"
			"tc3_request, SignedHeaders=..., Signature=<64 hex digits>.");
}

static enum api_code public_tc3(struct api_request *r, const struct api_http *h,
				struct api_error *e)
{
	static const char *const required[] = {"X-TC-Action", "X-TC-Version", "X-TC-Timestamp"};
	const char *v[3];
	enum api_code rc = tc3_auth_parse(r, api_http_header(h, "Authorization"), e);

	if (rc)
		return rc;
	for (size_t i = 0; i < 3; i++) {
		v[i] = api_http_header(h, required[i]);
		if (!v[i] || !*v[i])
			return api_fail(e, API_MISSING_PARAMETER, "The request is missing a "
					"required parameter `%s`.", required[i]);
	}
	r->action = v[0];
	r->version = v[1];
	if (parse_ts(v[2], &r->timestamp))
		return api_fail(e, API_INVALID_PARAMETER, "The parameter `X-TC-Timestamp` must "
				"be a Unix time in seconds.");
	r->token = api_http_header(h, "X-TC-Token");
	if (r->token && !*r->token)
		r->token = NULL;
	return API_OK;
}

static enum api_code public_v1(struct api_request *r, struct api_error *e)
{
	static const char *const required[] = {"Action", "Version", "Timestamp", "Nonce",
					       "SecretId"};
	const char *v[5];

	for (size_t i = 0; i < 5; i++) {
		v[i] = api_form_get(r->form, required[i]);
		if (!v[i] || !*v[i])
			return api_fail(e, API_MISSING_PARAMETER, "The request is missing a "
					"required parameter `%s`.", required[i]);
	}
	r->action = v[0];
	r->version = v[1];
	if (parse_ts(v[2], &r->timestamp))
		return api_fail(e, API_INVALID_PARAMETER, "The parameter `Timestamp` must be a "
				"Unix time in seconds.");
	if (!all_digits(v[3], 20))
		return api_fail(e, API_INVALID_PARAMETER, "The parameter `Nonce` must be a "
				"non-negative integer.");
	r->nonce = v[3];
	r->secret_id = v[4];
	r->signature = api_form_get(r->form, "Signature");
	r->method_ok = !sign_v1_method_parse(api_form_get(r->form, "SignatureMethod"),
					     &r->method);
	r->token = api_form_get(r->form, "Token");
	if (r->token && !*r->token)
		r->token = NULL;
	return API_OK;
}

enum api_code api_request_parse(const struct api_http *h, struct api_request **rp,
				struct api_error *e)
{
	const char *auth = api_http_header(h, "Authorization"), *q;
	bool post, tc3 = api_http_is_tc3(auth);
	struct api_request *r;
	enum api_code rc;

	post = !strcmp(h->method, "POST");
	if (!post && strcmp(h->method, "GET"))
		return api_fail(e, API_UNSUPPORTED_PROTOCOL, "The HTTP method %.16s is not "
				"supported; use GET or POST.", h->method);
	if ((!post && (strlen(h->target) > API_MAX_GET || h->body_len > API_MAX_GET)) ||
	    (post && h->body_len > (tc3 ? API_MAX_BODY_TC3 : API_MAX_BODY_V1)))
		return api_fail(e, API_REQUEST_SIZE_LIMIT_EXCEEDED, "The request is larger than "
				"the limit (GET 32 KB, POST signed with v1 1 MB, POST signed with "
				"TC3 10 MB).");

	r = mem_zalloc(sizeof(*r), request_destructor);
	if (!r)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	r->http = h;
	q = strchr(h->target, '?');
	r->query = q ? q + 1 : "";
	if (re_sdprintf(&r->path, "%b", h->target, q ? (size_t)(q - h->target) :
			strlen(h->target))) {
		rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		goto out;
	}

	/* POST takes its parameters from the body only, GET from the query only (§1). */
	if (!post) {
		rc = api_form_decode(r->query, strlen(r->query), &r->form, e);
	}
	else if (media_type_is(api_http_header(h, "Content-Type"), "application/json")) {
		json_error_t jerr;

		r->json = h->body_len ? json_loadb(h->body, h->body_len, JSON_REJECT_DUPLICATES,
						   &jerr) : json_object();
		if (!r->json)
			rc = api_fail(e, API_INVALID_REQUEST, "The request body is not valid JSON: "
				      "%.160s (line %d, column %d).", jerr.text, jerr.line,
				      jerr.column);
		else if (!json_is_object(r->json))
			rc = api_fail(e, API_INVALID_REQUEST, "The request body must be a JSON "
				      "object.");
		else
			rc = API_OK;
	}
	else if (media_type_is(api_http_header(h, "Content-Type"),
			       "application/x-www-form-urlencoded")) {
		rc = api_form_decode(h->body, h->body_len, &r->form, e);
	}
	else {
		rc = api_fail(e, API_INVALID_REQUEST, "A POST request must have the Content-Type "
			      "application/json or application/x-www-form-urlencoded.");
	}
	if (rc)
		goto out;

	if (tc3) {
		r->scheme = API_SCHEME_TC3;
		rc = public_tc3(r, h, e);
	}
	else if (r->form && api_form_get(r->form, "Signature")) {
		r->scheme = API_SCHEME_V1;
		rc = public_v1(r, e);
	}
	else {
		rc = api_fail(e, API_AUTH_INVALID_AUTHORIZATION, auth ?
			      "The Authorization header must use TC3-HMAC-SHA256." :
			      "The request is not signed: it needs an Authorization header "
			      "(TC3-HMAC-SHA256) or a Signature parameter (v1).");
	}
out:
	if (rc)
		mem_deref(r);
	else
		*rp = r;
	return rc;
}

enum api_code api_request_check_time(const struct api_request *r, int64_t now_s,
				     struct api_error *e)
{
	int64_t d = now_s - r->timestamp;

	if (d > TIME_WINDOW_S || d < -TIME_WINDOW_S)
		return api_fail(e, API_AUTH_SIGNATURE_EXPIRE, "The request timestamp %lld is "
				"more than 300 seconds from the server time %lld.",
				(long long)r->timestamp, (long long)now_s);
	return API_OK;
}

/* The Host value without its port ("[::1]:8080" → "[::1]"); false when it has none. */
static bool host_strip_port(const char *host, char *out, size_t outsz)
{
	const char *colon = strrchr(host, ':'), *bracket = strrchr(host, ']');
	size_t n;

	if (!colon || (bracket && bracket > colon) || (!bracket && strchr(host, ':') != colon))
		return false;
	n = (size_t)(colon - host);
	if (n >= outsz)
		return false;
	memcpy(out, host, n);
	out[n] = '\0';
	return true;
}

static enum api_code verify_tc3(const struct api_request *r, const char *key,
				struct api_error *e)
{
	const struct api_http *h = r->http;
	struct sign_header raw[TC3_MAX_SIGNED_HEADERS], low[TC3_MAX_SIGNED_HEADERS];
	char names[256], vals[2][TC3_MAX_SIGNED_HEADERS][256], hash[SIGN_SHA256_HEX];
	char date[11], host_np[256], sig[SIGN_SHA256_HEX], *save = NULL;
	const char *unsigned_payload = api_http_header(h, "X-TC-Content-SHA256");
	struct sign_tc3 in = {h->method, r->path, !strcmp(h->method, "GET") ? r->query : "",
			      NULL, 0, hash, r->timestamp, r->date, r->service};
	int host_idx = -1;
	bool all_lower = true;

	if (sign_tc3_date(r->timestamp, date) || strcmp(date, r->date))
		return api_fail(e, API_AUTH_SIGNATURE_FAILURE, "The credential date %s is not "
				"the UTC date of X-TC-Timestamp.", r->date);
	if (unsigned_payload && !strcmp(unsigned_payload, "UNSIGNED-PAYLOAD"))
		return api_fail(e, API_AUTH_SIGNATURE_FAILURE, "Unsigned payloads are not "
				"accepted: sign the request body.");
	if (strlen(r->signed_headers) >= sizeof(names))
		goto bad_headers;
	strcpy(names, r->signed_headers);
	for (char *n = strtok_r(names, ";", &save); n; n = strtok_r(NULL, ";", &save)) {
		const char *v = api_http_header(h, n);
		char *t;
		size_t i = in.n_headers;

		if (i >= TC3_MAX_SIGNED_HEADERS)
			goto bad_headers;
		if (!v)
			return api_fail(e, API_AUTH_SIGNATURE_FAILURE, "The signed header `%.64s` "
					"is missing from the request.", n);
		if (strlen(v) >= sizeof(vals[0][0]))
			goto bad_headers;
		strcpy(vals[0][i], v);
		t = trim(vals[0][i]);
		memmove(vals[0][i], t, strlen(t) + 1);
		strcpy(vals[1][i], vals[0][i]);
		for (char *c = vals[1][i]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		raw[i] = (struct sign_header){n, vals[0][i]};
		low[i] = (struct sign_header){n, vals[1][i]};
		if (!strcmp(n, "host"))
			host_idx = (int)i;
		in.n_headers++;
	}
	/* Without a signed Host a signature could be replayed against another server. */
	if (host_idx < 0)
		return api_fail(e, API_AUTH_SIGNATURE_FAILURE, "SignedHeaders must include host.");
	sign_sha256_hex(h->body ? h->body : "", h->body_len, hash);
	for (size_t i = 0; i < in.n_headers; i++)
		all_lower = all_lower && !strcmp(vals[0][i], vals[1][i]);

	/* The SDKs differ (§5, §7): values lower-cased or as sent; host with its port (Go,
	 * .NET) or without (Node). Every combination is a full HMAC, so a wrong key still
	 * fails every one of them. */
	for (int variant = 0; variant < 4; variant++) {
		struct sign_header *hv = variant & 2 ? raw : low;
		const char *host_full = hv[host_idx].value;

		if ((variant & 2) && all_lower)
			continue;
		if (variant & 1) {
			if (!host_strip_port(host_full, host_np, sizeof(host_np)))
				continue;
			hv[host_idx].value = host_np;
		}
		in.headers = hv;
		if (sign_tc3(&in, key, sig))
			return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		hv[host_idx].value = host_full;
		if (sign_equal(sig, r->tc3_signature))
			return API_OK;
	}
	return api_fail(e, API_AUTH_SIGNATURE_FAILURE, "The provided credentials could not be "
			"validated. Please check your signature is correct.");
bad_headers:
	return api_fail(e, API_AUTH_SIGNATURE_FAILURE, "The signed headers are too many or "
			"too long.");
}

static enum api_code verify_v1(const struct api_request *r, const char *key,
			       struct api_error *e)
{
	const char *host = api_http_header(r->http, "Host");
	char hostport[300], *text = NULL, sig[SIGN_V1_B64];
	enum api_code rc = API_AUTH_SIGNATURE_FAILURE;

	if (!r->method_ok)
		return api_fail(e, API_AUTH_SIGNATURE_FAILURE, "SignatureMethod must be HmacSHA1 "
				"or HmacSHA256.");
	if (!host)
		return api_fail(e, API_AUTH_SIGNATURE_FAILURE, "The request has no Host header, "
				"which v1 signatures cover.");
	for (int variant = 0; variant < 2 && rc; variant++) {
		const char *hv = host;

		/* node-fetch leaves a default port out of Host while the SDK signs it. */
		if (variant == 1) {
			if (host_strip_port(host, hostport, sizeof(hostport)) ||
			    strlen(host) > 256)
				break;
			snprintf(hostport, sizeof(hostport), "%s:%u", host, r->http->listen_port);
			hv = hostport;
		}
		if (sign_v1_string(r->http->method, hv, r->path, r->form->v, r->form->n, &text))
			return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		sign_v1(r->method, key, text, strlen(text), sig);
		text = mem_deref(text);
		if (sign_equal(sig, r->signature))
			rc = API_OK;
	}
	if (rc)
		return api_fail(e, rc, "The provided credentials could not be validated. Please "
				"check your signature is correct.");
	return API_OK;
}

enum api_code api_request_verify(const struct api_request *r, const char *secret_key,
				 struct api_error *e)
{
	return r->scheme == API_SCHEME_TC3 ? verify_tc3(r, secret_key, e) :
					     verify_v1(r, secret_key, e);
}

enum api_code api_request_params(const struct api_request *r, json_t **objp,
				 struct api_error *e)
{
	if (r->json) {
		*objp = json_incref(r->json);
		return API_OK;
	}
	return api_form_unflatten(r->form, objp, e);
}
