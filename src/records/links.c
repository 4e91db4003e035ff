/* links: recording files and the expiring signed links that let their owner download them.
 *
 * A recording lives at <recording_dir>/<SdkAppId>/<name>: the instance's directory, so a
 * file can only ever be reached under its owner's id. The store keeps the relative file
 * ("1400000000/<SessionId>.wav"); a link is made each time a record is read or pushed,
 * because a link stored once would expire:
 *
 *   <public_url>/records/<SdkAppId>/<name>?Expires=<unix s>&Signature=<hex>
 *
 * Signature = hex(HMAC-SHA256(key, "GET\n/records/<SdkAppId>/<name>\n<Expires>")). The
 * path and the expiry are signed, so a link cannot be moved to another file, another
 * instance's directory or a later time. The key is derived from the master key (tenant/). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re_types.h>
#include <re_mem.h>
#include "conf/conf.h"
#include <jansson.h>
#include "records/records.h"

enum { SIG_HEX = 64, SDKAPPID_MAX_DIGITS = 20 };

/* Immutable once made: read by any thread. Owner: main (released after the API, the push
 * and the sessions stopped). */
struct records_links {
	char base[RECORDS_URL_BASE_MAX];  /* without a trailing '/' */
	char dir[512];
	uint32_t ttl_s;
	uint8_t key[RECORDS_KEY_LEN];
};

int records_conf_read(const struct conf *cf, struct records_conf *rc, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "records");
	const char *url;
	uint64_t ttl, keep, trace_days, trace_bytes;
	int r;

	memset(rc, 0, sizeof(*rc));
	r = conf_str(sec, "public_url", "", &url, err);
	r = r ? r : conf_uint(sec, "link_ttl", 86400, 60, 7 * 86400, &ttl, err);
	r = r ? r : conf_uint(sec, "retention_days", 0, 0, 36500, &keep, err);
	r = r ? r : conf_uint(sec, "sip_trace_days", 7, 0, 3650, &trace_days, err);
	r = r ? r : conf_uint(sec, "sip_trace_bytes", 65536, 1024, 16777216, &trace_bytes, err);
	if (r)
		return r;
	if (*url && ((strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) ||
		     strlen(url) >= sizeof(rc->public_url) - 1 || strpbrk(url, "?# \t"))) {
		conf_err_set(err, conf_key_line(sec, "public_url"),
			     "public_url must be an http:// or https:// base URL without query or "
			     "fragment, shorter than %zu bytes", sizeof(rc->public_url) - 1);
		return EINVAL;
	}
	snprintf(rc->public_url, sizeof(rc->public_url), "%s", url);
	rc->link_ttl_s = (uint32_t)ttl;
	rc->retention_days = (uint32_t)keep;
	rc->sip_trace_days = (uint32_t)trace_days;
	rc->sip_trace_bytes = (uint32_t)trace_bytes;
	return 0;
}

static void links_destructor(void *arg)
{
	struct records_links *l = arg;

	OPENSSL_cleanse(l->key, sizeof(l->key));
}

int records_links_alloc(struct records_links **lp, const char *base_url, uint32_t ttl_s,
			const char *dir, const uint8_t key[RECORDS_KEY_LEN])
{
	struct records_links *l;
	size_t n;

	if (!lp || !base_url || !dir || !key || !ttl_s)
		return EINVAL;
	n = strlen(base_url);
	while (n && base_url[n - 1] == '/')
		n--;
	if (!n || n >= sizeof(l->base) || strlen(dir) >= sizeof(l->dir))
		return EINVAL;
	l = mem_zalloc(sizeof(*l), links_destructor);
	if (!l)
		return ENOMEM;
	memcpy(l->base, base_url, n);
	strcpy(l->dir, dir);
	l->ttl_s = ttl_s;
	memcpy(l->key, key, RECORDS_KEY_LEN);
	*lp = l;
	return 0;
}

const char *records_links_dir(const struct records_links *l)
{
	return l ? l->dir : "";
}

int records_file_call(char *buf, size_t sz, uint64_t sdkappid, const char *session_id)
{
	int n;

	if (!buf || !session_id || !records_session_id_ok(session_id))
		return EINVAL;
	n = snprintf(buf, sz, "%" PRIu64 "/%s.wav", sdkappid, session_id);
	return n < 0 || (size_t)n >= sz ? ENOSPC : 0;
}

int records_file_voicemail(char *buf, size_t sz, uint64_t sdkappid, const char *session_id,
			   unsigned n)
{
	int len;

	if (!buf || !session_id || !records_session_id_ok(session_id) || !n ||
	    n > RECORDS_VOICEMAIL_MAX)
		return EINVAL;
	len = snprintf(buf, sz, "%" PRIu64 "/%s-vm%u.wav", sdkappid, session_id, n);
	return len < 0 || (size_t)len >= sz ? ENOSPC : 0;
}

bool records_session_id_ok(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	}
	return i == 32;
}

/* Is `f` a recording file as records_file_* make them: "<digits>/<32 hex>[-vm<n>].wav"?
 * *sdkappidp gets the directory's number. */
static bool file_ok(const char *f, uint64_t *sdkappidp)
{
	const char *slash = strchr(f, '/'), *name, *ext;
	char id[33];
	uint64_t v = 0;

	if (!slash || slash == f || slash - f > SDKAPPID_MAX_DIGITS)
		return false;
	for (const char *p = f; p < slash; p++) {
		if (*p < '0' || *p > '9' || (v > (UINT64_MAX - 9) / 10))
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (!v || f[0] == '0')
		return false;
	name = slash + 1;
	if (strlen(name) < 36)
		return false;
	memcpy(id, name, 32);
	id[32] = '\0';
	if (!records_session_id_ok(id))
		return false;
	ext = name + 32;
	if (!strncmp(ext, "-vm", 3)) {
		unsigned k = 0;
		const char *p = ext + 3;

		if (*p < '1' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9' && k <= RECORDS_VOICEMAIL_MAX)
			k = k * 10 + (unsigned)(*p++ - '0');
		if (k > RECORDS_VOICEMAIL_MAX)
			return false;
		ext = p;
	}
	if (strcmp(ext, ".wav"))
		return false;
	*sdkappidp = v;
	return true;
}

bool records_file_ok(const char *file, uint64_t sdkappid)
{
	uint64_t owner = 0;

	return file && file_ok(file, &owner) && owner == sdkappid;
}

static void signature(const struct records_links *l, const char *file, int64_t expires,
		      char out[SIG_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	char msg[600];
	int n = snprintf(msg, sizeof(msg), "GET\n/records/%s\n%" PRId64, file, expires);

	if (n < 0 || (size_t)n >= sizeof(msg) ||
	    !HMAC(EVP_sha256(), l->key, RECORDS_KEY_LEN, (const uint8_t *)msg, (size_t)n, mac,
		  &len) || len != SIG_HEX / 2) {
		memset(out, 0, SIG_HEX + 1); /* matches no hex signature */
		return;
	}
	for (unsigned i = 0; i < len; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[SIG_HEX] = '\0';
}

int records_link(const struct records_links *l, const char *file, int64_t now_s, char *out,
		 size_t sz)
{
	char sig[SIG_HEX + 1];
	uint64_t owner;
	int64_t expires;
	int n;

	if (!l || !file || !out || !file_ok(file, &owner))
		return EINVAL;
	expires = now_s + (int64_t)l->ttl_s;
	signature(l, file, expires, sig);
	n = snprintf(out, sz, "%s/records/%s?Expires=%" PRId64 "&Signature=%s", l->base, file,
		     expires, sig);
	return n < 0 || (size_t)n >= sz ? ENOSPC : 0;
}

/* A decimal Unix time, nothing else. */
static bool expires_parse(const char *s, int64_t *vp)
{
	int64_t v = 0;

	if (!s || !*s || strlen(s) > 12)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*vp = v;
	return true;
}

enum records_access records_link_check(const struct records_links *l, const char *path,
				       const char *expires, const char *sig, int64_t now_s,
				       char *abs, size_t sz)
{
	char want[SIG_HEX + 1];
	uint64_t owner;
	int64_t exp;
	const char *file;

	if (!l || !path || strncmp(path, "/records/", 9))
		return RECORDS_NOT_FOUND;
	file = path + 9;
	if (!file_ok(file, &owner))
		return RECORDS_NOT_FOUND;
	if (!expires_parse(expires, &exp) || !sig || strlen(sig) != SIG_HEX)
		return RECORDS_FORBIDDEN;
	signature(l, file, exp, want);
	/* Constant time: the comparison does not tell how much of a guess was right. */
	if (CRYPTO_memcmp(want, sig, SIG_HEX) || exp < now_s)
		return RECORDS_FORBIDDEN;
	if (abs) {
		int n = snprintf(abs, sz, "%s/%s", l->dir, file);

		if (n < 0 || (size_t)n >= sz)
			return RECORDS_NOT_FOUND;
	}
	return RECORDS_OK;
}

/* One JSON string field holding a file → the link; "" and other values stay. */
static int link_value(const struct records_links *l, json_t *v, int64_t now_s)
{
	char url[RECORDS_URL_BASE_MAX + 256];
	const char *f = json_string_value(v);
	uint64_t owner;

	if (!f || !*f || !file_ok(f, &owner))
		return 0;
	if (records_link(l, f, now_s, url, sizeof(url)))
		return ENOSPC;
	return json_string_set(v, url) ? ENOMEM : 0;
}

int records_links_apply(const struct records_links *l, json_t *obj, int64_t now_s)
{
	json_t *v, *e;
	size_t i;
	int err;

	if (!obj || !json_is_object(obj))
		return EINVAL;
	v = json_object_get(obj, "RecordURL");
	if (!l) {
		/* No links (no API to serve them): never show a bare file name. */
		if (json_is_string(v))
			json_string_set(v, "");
		v = json_object_get(obj, "VoicemailRecordURL");
		if (json_is_array(v))
			json_array_clear(v);
		return 0;
	}
	err = json_is_string(v) ? link_value(l, v, now_s) : 0;
	if (err)
		return err;
	v = json_object_get(obj, "VoicemailRecordURL");
	json_array_foreach(v, i, e) {
		err = link_value(l, e, now_s);
		if (err)
			return err;
	}
	return 0;
}

int records_links_body(const struct records_links *l, const char *body, int64_t now_s,
		       char **outp)
{
	json_error_t je;
	json_t *obj;
	int err;

	if (!body || !outp)
		return EINVAL;
	*outp = NULL;
	obj = json_loads(body, 0, &je);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return EINVAL;
	}
	err = records_links_apply(l, obj, now_s);
	if (!err) {
		*outp = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!*outp)
			err = ENOMEM;
	}
	json_decref(obj);
	return err;
}
