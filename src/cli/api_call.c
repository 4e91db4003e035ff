/* ccc call: one signed API request (TC3-HMAC-SHA256 or v1), as tccli sends it, signed by
 * the same sign module the server verifies with; prints the JSON response. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_mbuf.h>
#include <re_fmt.h>
#include "base/base.h"
#include "cli/cli.h"
#include "sign/sign.h"

enum { CALL_MAX_PARAMS = 512 };

struct call_opts {
	const char *action;
	const char *endpoint;
	const char *method;     /* "POST" or "GET" */
	const char *sign;       /* "TC3", "HmacSHA256", "HmacSHA1" */
	const char *json;       /* --json text, or NULL */
	bool https;             /* the endpoint was given as https://HOST:PORT */
	struct sign_param params[CALL_MAX_PARAMS];
	size_t n;
	char *owned[CALL_MAX_PARAMS]; /* strings made by flattening (mem) */
	size_t n_owned;
};

static int call_usage(void)
{
	fprintf(stderr,
		"usage: ccc call ACTION [--endpoint [https://]HOST:PORT] [--method POST|GET]\n"
		"                [--sign TC3|HmacSHA256|HmacSHA1] [--json '{...}' | Key=Value ...]\n"
		"  Credentials from TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY; the endpoint\n"
		"  from --endpoint, else CCC_ENDPOINT, else 127.0.0.1:8080. Key=Value pairs use the\n"
		"  flattened names of the API (Callers.0=..., Variables.0.Key=...).\n"
		"  An https:// endpoint is checked against the system's CAs, or the PEM file\n"
		"  CCC_CA_FILE names (a private CA).\n"
		"  Exit status: 0 success, 1 an API error or no answer, 2 bad usage.\n");
	return 2;
}

static int param_add(struct call_opts *o, const char *name, const char *value)
{
	if (o->n >= CALL_MAX_PARAMS)
		return E2BIG;
	o->params[o->n].name = name;
	o->params[o->n].value = value;
	o->n++;
	return 0;
}

static int own(struct call_opts *o, char *s)
{
	if (!s || o->n_owned >= CALL_MAX_PARAMS) {
		mem_deref(s);
		return s ? E2BIG : ENOMEM;
	}
	o->owned[o->n_owned++] = s;
	return 0;
}

/* JSON → flattened pairs, as the SDKs do (spec §3): nulls and empty containers vanish. */
static int flatten(struct call_opts *o, const char *prefix, json_t *v)
{
	char *name = NULL, *val = NULL;
	int err = 0;

	if (json_is_object(v)) {
		const char *k;
		json_t *c;

		json_object_foreach(v, k, c) {
			err = re_sdprintf(&name, "%s%s%s", prefix, *prefix ? "." : "", k);
			err = err ? err : own(o, name);
			err = err ? err : flatten(o, name, c);
			if (err)
				return err;
		}
		return 0;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *c;

		json_array_foreach(v, i, c) {
			err = re_sdprintf(&name, "%s.%zu", prefix, i);
			err = err ? err : own(o, name);
			err = err ? err : flatten(o, name, c);
			if (err)
				return err;
		}
		return 0;
	}
	if (json_is_null(v))
		return 0;
	if (json_is_string(v))
		err = re_sdprintf(&val, "%s", json_string_value(v));
	else if (json_is_integer(v))
		err = re_sdprintf(&val, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		err = re_sdprintf(&val, "%g", json_real_value(v));
	else
		err = re_sdprintf(&val, "%s", json_is_true(v) ? "true" : "false");
	err = err ? err : own(o, val);
	return err ? err : param_add(o, prefix, val);
}

/* application/x-www-form-urlencoded with only unreserved characters left raw. */
static int form_encode(struct mbuf *mb, const struct sign_param *p, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		err = mbuf_printf(mb, "%s%s=", i ? "&" : "", p[i].name);
		for (const unsigned char *c = (const unsigned char *)p[i].value; *c && !err; c++) {
			if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
			    (*c >= '0' && *c <= '9') || strchr("-_.~", *c))
				err = mbuf_write_u8(mb, *c);
			else
				err = mbuf_printf(mb, "%%%02X", *c);
		}
	}
	return err;
}

static size_t body_sink(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return mbuf_write_mem(arg, (uint8_t *)ptr, size * nmemb) ? 0 : size * nmemb;
}

static int opts_parse(struct call_opts *o, int argc, char **argv)
{
	const char *env = getenv("CCC_ENDPOINT");

	o->action = argv[1];
	o->endpoint = env && *env ? env : "127.0.0.1:8080";
	o->method = "POST";
	o->sign = "TC3";
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *eq;

		if (!strcmp(a, "--endpoint") && v)
			o->endpoint = v, i++;
		else if (!strcmp(a, "--method") && v && (!strcmp(v, "POST") || !strcmp(v, "GET")))
			o->method = v, i++;
		else if (!strcmp(a, "--sign") && v && (!strcmp(v, "TC3") ||
			 !strcmp(v, "HmacSHA256") || !strcmp(v, "HmacSHA1")))
			o->sign = v, i++;
		else if (!strcmp(a, "--json") && v && !o->n)
			o->json = v, i++;
		else if (a[0] != '-' && (eq = strchr(a, '=')) && eq != a && !o->json) {
			*eq = '\0';
			if (param_add(o, a, eq + 1))
				return E2BIG;
		}
		else {
			fprintf(stderr, "ccc call: unexpected argument '%s'\n", a);
			return EINVAL;
		}
	}
	if (!strncmp(o->endpoint, "http://", 7))
		o->endpoint += 7;
	else if (!strncmp(o->endpoint, "https://", 8)) {
		o->endpoint += 8;
		o->https = true;
	}
	return 0;
}

/* Builds the signed request into url, body (may stay empty) and the extra headers. TC3 is
 * signed as the Go SDK and tccli do: host with its port, scope service "ccc". */
static int request_build(struct call_opts *o, const char *id, const char *key,
			 struct mbuf *url, struct mbuf *body, struct curl_slist **hdrs)
{
	bool get = !strcmp(o->method, "GET"), tc3 = !strcmp(o->sign, "TC3");
	int64_t now = clock_unix_s();
	char ts[24], line[700];
	struct mbuf *form = mbuf_alloc(1024);
	json_t *j = NULL;
	int err = 0;

	if (!form)
		return ENOMEM;
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	if (o->json) {
		json_error_t jerr;

		j = json_loads(o->json, 0, &jerr);
		if (!json_is_object(j)) {
			fprintf(stderr, "ccc call: --json must be a JSON object (%s)\n", jerr.text);
			err = EINVAL;
			goto out;
		}
		/* TC3 POST sends the JSON itself; every other form flattens it. */
		if (!tc3 || get)
			err = flatten(o, "", j);
	}
	if (err)
		goto out;
	err = mbuf_printf(url, "%s://%s/", o->https ? "https" : "http", o->endpoint);
	if (tc3) {
		const char *ct = o->json && !get ? "application/json" :
						   "application/x-www-form-urlencoded";
		struct sign_header sh[2] = {{"content-type", ct}, {"host", o->endpoint}};
		char hash[SIGN_SHA256_HEX], date[11], auth[600];
		struct sign_tc3 in = {o->method, "/", "", sh, 2, hash, now, date, "ccc"};

		if (o->json && !get) {
			char *payload = json_dumps(j, JSON_COMPACT);

			err = err ? err : payload ? mbuf_write_str(body, payload) : ENOMEM;
			free(payload);
		}
		else {
			err = err ? err : form_encode(form, o->params, o->n);
			err = err ? err : mbuf_write_u8(form, 0);
			if (!err && get) {
				in.query = (const char *)form->buf;
				err = mbuf_printf(url, "?%s", form->buf);
			}
			else if (!err) {
				err = mbuf_write_mem(body, form->buf, form->end - 1);
			}
		}
		if (err)
			goto out;
		sign_sha256_hex(body->buf ? (char *)body->buf : "", body->end, hash);
		sign_tc3_date(now, date);
		err = sign_tc3_authorization(&in, id, key, auth, sizeof(auth));
		snprintf(line, sizeof(line), "Authorization: %s", auth);
		*hdrs = curl_slist_append(*hdrs, line);
		snprintf(line, sizeof(line), "Content-Type: %s", ct);
		*hdrs = curl_slist_append(*hdrs, line);
		snprintf(line, sizeof(line), "X-TC-Action: %s", o->action);
		*hdrs = curl_slist_append(*hdrs, line);
		*hdrs = curl_slist_append(*hdrs, "X-TC-Version: 2020-02-10");
		snprintf(line, sizeof(line), "X-TC-Timestamp: %s", ts);
		*hdrs = curl_slist_append(*hdrs, line);
		*hdrs = curl_slist_append(*hdrs, "X-TC-RequestClient: cccd-ccc");
	}
	else {
		uint16_t nonce;
		char nbuf[8], sig[SIGN_V1_B64], *text = NULL;

		ids_random(&nonce, sizeof(nonce));
		snprintf(nbuf, sizeof(nbuf), "%u", nonce);
		err = param_add(o, "Action", o->action);
		err = err ? err : param_add(o, "Nonce", nbuf);
		err = err ? err : param_add(o, "Timestamp", ts);
		err = err ? err : param_add(o, "Version", "2020-02-10");
		err = err ? err : param_add(o, "SecretId", id);
		err = err ? err : param_add(o, "SignatureMethod", o->sign);
		err = err ? err : param_add(o, "RequestClient", "cccd-ccc");
		err = err ? err : sign_v1_string(o->method, o->endpoint, "/", o->params, o->n,
						 &text);
		if (err)
			goto out;
		sign_v1(!strcmp(o->sign, "HmacSHA1") ? SIGN_V1_HMAC_SHA1 : SIGN_V1_HMAC_SHA256,
			key, text, strlen(text), sig);
		mem_deref(text);
		err = param_add(o, "Signature", sig);
		err = err ? err : form_encode(form, o->params, o->n);
		err = err ? err : mbuf_write_u8(form, 0);
		if (!err && get)
			err = mbuf_printf(url, "?%s", form->buf);
		else if (!err)
			err = mbuf_write_mem(body, form->buf, form->end - 1);
		if (!get)
			*hdrs = curl_slist_append(*hdrs, "Content-Type: "
						  "application/x-www-form-urlencoded");
	}
out:
	json_decref(j);
	mem_deref(form);
	return err;
}

/* The response on stdout (indented on a terminal, as received otherwise); an error's code
 * and message on stderr too. Returns the exit status: 1 for an error or no JSON. */
static int response_print(const struct mbuf *resp, const json_t *j)
{
	const json_t *err = json_object_get(json_object_get(j, "Response"), "Error");

	if (j && isatty(STDOUT_FILENO))
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	else
		fwrite(resp->buf, 1, resp->end, stdout);
	fputc('\n', stdout);
	if (!j) {
		fprintf(stderr, "ccc: the answer is not JSON\n");
		return 1;
	}
	if (!err)
		return 0;
	fprintf(stderr, "ccc: %s: %s\n", json_string_value(json_object_get(err, "Code")),
		json_string_value(json_object_get(err, "Message")));
	return 1;
}

/* Sends o's request signed with the environment's credentials; *jp is the answer parsed
 * (NULL when it is not JSON) and resp its text. Returns 0, 2 for bad usage (no
 * credentials, a request that cannot be built) or 1 for no answer. */
static int call_send(struct call_opts *o, struct mbuf *resp, json_t **jp)
{
	const char *id = getenv("TENCENTCLOUD_SECRET_ID"), *key = getenv("TENCENTCLOUD_SECRET_KEY");
	struct mbuf *url = mbuf_alloc(256), *body = mbuf_alloc(1024);
	struct curl_slist *hdrs = NULL;
	char *url_s = NULL, errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = NULL;
	int rc = 1, err;

	if (!url || !body)
		goto out;
	if (!id || !*id || !key || !*key) {
		fprintf(stderr, "ccc: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY\n");
		rc = 2;
		goto out;
	}
	err = request_build(o, id, key, url, body, &hdrs);
	if (err) {
		fprintf(stderr, "ccc: cannot build the request: %s\n", strerror(err));
		rc = err == EINVAL ? 2 : 1;
		goto out;
	}
	mbuf_set_pos(url, 0);
	if (mbuf_strdup(url, &url_s, url->end))
		goto out;
	c = curl_easy_init();
	if (!c)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url_s);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (o->https && getenv("CCC_CA_FILE") && *getenv("CCC_CA_FILE"))
		curl_easy_setopt(c, CURLOPT_CAINFO, getenv("CCC_CA_FILE"));
	if (!strcmp(o->method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->buf ? (char *)body->buf : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body->end);
	}
	if (curl_easy_perform(c) != CURLE_OK) {
		fprintf(stderr, "ccc: %s: %s\n", url_s, errbuf);
		goto out;
	}
	*jp = json_loadb((const char *)resp->buf, resp->end, 0, NULL);
	rc = 0;
out:
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	for (size_t i = 0; i < o->n_owned; i++)
		mem_deref(o->owned[i]);
	o->n_owned = 0;
	mem_deref(url_s);
	mem_deref(url);
	mem_deref(body);
	return rc;
}

int cli_call(int argc, char **argv)
{
	struct call_opts *o;
	struct mbuf *resp = mbuf_alloc(4096);
	json_t *j = NULL;
	int rc = 1;

	if (argc < 2 || argv[1][0] == '-') {
		mem_deref(resp);
		return call_usage();
	}
	o = mem_zalloc(sizeof(*o), NULL);
	if (!o || !resp)
		goto out;
	if (opts_parse(o, argc, argv)) {
		rc = call_usage();
		goto out;
	}
	rc = call_send(o, resp, &j);
	if (!rc)
		rc = response_print(resp, j);
out:
	json_decref(j);
	mem_deref(o);
	mem_deref(resp);
	return rc;
}

int cli_call_json(const char *action, const char *endpoint, const json_t *params,
		  json_t **respp)
{
	struct call_opts *o = mem_zalloc(sizeof(*o), NULL);
	struct mbuf *resp = mbuf_alloc(4096);
	const char *env = getenv("CCC_ENDPOINT");
	char *text = json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER);
	const json_t *err;
	json_t *j = NULL;
	int rc = 1;

	if (!o || !resp || !text)
		goto out;
	o->action = action;
	o->endpoint = endpoint ? endpoint : env && *env ? env : "127.0.0.1:8080";
	o->method = "POST";
	o->sign = "TC3";
	o->json = text;
	if (!strncmp(o->endpoint, "http://", 7))
		o->endpoint += 7;
	else if (!strncmp(o->endpoint, "https://", 8)) {
		o->endpoint += 8;
		o->https = true;
	}
	rc = call_send(o, resp, &j);
	if (rc)
		goto out;
	rc = 1;
	if (!json_is_object(json_object_get(j, "Response"))) {
		fprintf(stderr, "ccc: %s: the answer is not a JSON response\n", action);
		goto out;
	}
	err = json_object_get(json_object_get(j, "Response"), "Error");
	if (err) {
		fprintf(stderr, "ccc: %s: %s\n", json_string_value(json_object_get(err, "Code")),
			json_string_value(json_object_get(err, "Message")));
		goto out;
	}
	*respp = json_incref(json_object_get(j, "Response"));
	rc = 0;
out:
	json_decref(j);
	free(text);
	mem_deref(o);
	mem_deref(resp);
	return rc;
}
