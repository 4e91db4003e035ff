/* form: application/x-www-form-urlencoded bodies and query strings — decoding, and
 * rebuilding the parameter tree from flattened names (`Callers.0`, `Variables.1.Key`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"

/* Most elements one flattened array may have; larger indices are refused before any
 * allocation, so `Callers.4000000000=x` costs nothing. Fields have smaller limits. */
enum { FORM_MAX_INDEX = 1000 };

/* Most name segments (`A.0.B` has 3): no ccc parameter nests deeper than 4, and the
 * limit bounds the recursion below. */
enum { FORM_MAX_DEPTH = 8 };

static const char *const public_params[] = {
	"Action", "Version", "Timestamp", "Nonce", "SecretId", "Signature", "SignatureMethod",
	"Region", "Token", "Language", "RequestClient", NULL,
};

bool api_public_param(const char *name)
{
	for (size_t i = 0; public_params[i]; i++) {
		if (!strcmp(name, public_params[i]))
			return true;
	}
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], len, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += len;
	}
	return true;
}

/* Decodes in[0..n) into out (which has room for n+1); *outn gets the length. */
static int pct_decode(const char *in, size_t n, char *out, size_t *outn)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '+') {
			out[o++] = ' ';
		}
		else if (in[i] == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return EINVAL;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return EINVAL;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		}
		else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
	*outn = o;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	const struct sign_param *const *pa = a, *const *pb = b;

	return strcmp((*pa)->name, (*pb)->name);
}

/* Shows a client-supplied name in a message: at most 64 bytes, printable ASCII only. */
static const char *shown(const char *s, char buf[72])
{
	size_t i;

	for (i = 0; s[i] && i < 64; i++)
		buf[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i])
		memcpy(buf + i++, "...", 3), i += 2;
	buf[i] = '\0';
	return buf;
}

enum api_code api_form_decode(const char *s, size_t len, struct api_form **fp,
			      struct api_error *e)
{
	struct api_form *f;
	const struct sign_param **sorted = NULL;
	char *buf, nb[72];
	size_t pairs = 1, pos = 0;
	enum api_code rc = API_OK;

	if (!s)
		s = ""; /* an empty body may come without a buffer */
	for (size_t i = 0; i < len; i++)
		pairs += s[i] == '&';
	/* One allocation: the form, its pair array and the decoded text (never longer than
	 * the input, plus one NUL per name and per value). */
	f = mem_zalloc(sizeof(*f) + pairs * sizeof(*f->v) + len + 2 * pairs, NULL);
	if (!f)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	f->v = (struct sign_param *)(f + 1);
	buf = (char *)(f->v + pairs);

	while (pos <= len && rc == API_OK) {
		const char *seg = s + pos, *amp = memchr(seg, '&', len - pos), *eq;
		size_t seglen = amp ? (size_t)(amp - seg) : len - pos, rawlen, nlen, vlen;
		char *name = buf;

		pos += seglen + 1;
		if (!seglen)
			continue;
		eq = memchr(seg, '=', seglen);
		rawlen = eq ? (size_t)(eq - seg) : seglen;
		nlen = rawlen;
		if (pct_decode(seg, rawlen, name, &nlen) || !nlen) {
			rc = api_fail(e, API_INVALID_REQUEST, nlen ?
				      "A parameter name has a malformed percent escape." :
				      "The request has a parameter without a name.");
			break;
		}
		buf += nlen + 1;
		if (pct_decode(eq ? eq + 1 : "", eq ? seglen - rawlen - 1 : 0, buf, &vlen)) {
			rc = api_fail(e, API_INVALID_REQUEST, "The value of `%s` has a malformed "
				      "percent escape.", shown(name, nb));
			break;
		}
		if (strlen(name) != nlen || strlen(buf) != vlen) {
			rc = api_fail(e, API_INVALID_REQUEST, "The parameter `%s` contains a NUL "
				      "byte.", shown(name, nb));
			break;
		}
		if (!utf8_valid((unsigned char *)name, nlen) ||
		    !utf8_valid((unsigned char *)buf, vlen)) {
			rc = api_fail(e, API_INVALID_REQUEST, "The parameter `%s` is not valid "
				      "UTF-8.", shown(name, nb));
			break;
		}
		f->v[f->n].name = name;
		f->v[f->n].value = buf;
		f->n++;
		buf += vlen + 1;
	}
	if (rc == API_OK && f->n > 1) {
		sorted = mem_alloc(f->n * sizeof(*sorted), NULL);
		if (!sorted) {
			rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		}
		else {
			for (size_t i = 0; i < f->n; i++)
				sorted[i] = &f->v[i];
			qsort(sorted, f->n, sizeof(*sorted), name_cmp);
			for (size_t i = 1; i < f->n && rc == API_OK; i++) {
				if (!strcmp(sorted[i]->name, sorted[i - 1]->name))
					rc = api_fail(e, API_INVALID_REQUEST, "The parameter `%s` "
						      "is given more than once.",
						      shown(sorted[i]->name, nb));
			}
		}
	}
	mem_deref(sorted);
	if (rc)
		mem_deref(f);
	else
		*fp = f;
	return rc;
}

const char *api_form_get(const struct api_form *f, const char *name)
{
	for (size_t i = 0; f && i < f->n; i++) {
		if (!strcmp(f->v[i].name, name))
			return f->v[i].value;
	}
	return NULL;
}

/* A canonical array index: "0", or digits without a leading zero. */
static bool is_index(const char *seg, size_t len, size_t *idx)
{
	size_t v = 0;

	if (!len || (len > 1 && seg[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (seg[i] < '0' || seg[i] > '9')
			return false;
		if (v > FORM_MAX_INDEX)
			continue; /* keep reading the digits; the value is refused below */
		v = v * 10 + (size_t)(seg[i] - '0');
	}
	*idx = v;
	return true;
}

/* Turns every object whose keys are all indices into an array (recursively). Objects
 * stand for both while the names are read, because pairs come in any order. A converted
 * node comes back through *nodep as a new reference; the caller drops the old one. */
static enum api_code arrays_make(json_t **nodep, char *path, size_t plen, size_t psz,
				 struct api_error *e)
{
	json_t *node = *nodep, *arr, *child;
	const char *key;
	size_t n_idx = 0, n = json_object_size(node), idx;
	enum api_code rc;
	void *tmp;

	if (!json_is_object(node))
		return API_OK;
	json_object_foreach_safe(node, tmp, key, child) {
		size_t klen = strlen(key), nl = plen;

		if (is_index(key, klen, &idx))
			n_idx++;
		if (plen + klen + 2 < psz)
			nl += (size_t)snprintf(path + plen, psz - plen, "%s%s", plen ? "." : "",
					       key);
		rc = arrays_make(&child, path, nl, psz, e);
		path[plen] = '\0';
		if (rc)
			return rc;
		/* Replacing the value of the current key keeps the iteration valid. */
		if (child != json_object_get(node, key) && json_object_set_new(node, key, child))
			return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	}
	if (!n_idx)
		return API_OK;
	if (n_idx != n)
		return api_fail(e, API_INVALID_PARAMETER, "The parameter `%s` mixes list "
				"indices and member names.", path);
	arr = json_array();
	if (!arr)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	for (size_t i = 0; i < n; i++) {
		char k[24];

		snprintf(k, sizeof(k), "%zu", i);
		child = json_object_get(node, k);
		if (!child) {
			json_decref(arr);
			return api_fail(e, API_INVALID_PARAMETER, "The list `%s` has no element "
					"%zu (indices must be 0, 1, 2, ... without gaps).", path, i);
		}
		if (json_array_append(arr, child)) {
			json_decref(arr);
			return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
		}
	}
	*nodep = arr;
	return API_OK;
}

enum api_code api_form_unflatten(const struct api_form *f, json_t **objp, struct api_error *e)
{
	json_t *root = json_object();
	char path[256] = "", nb[72];
	enum api_code rc = API_OK;

	if (!root)
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	for (size_t i = 0; i < f->n && rc == API_OK; i++) {
		const char *name = f->v[i].name, *seg = name;
		json_t *node = root;
		unsigned depth = 0;

		if (api_public_param(name))
			continue;
		for (const char *p = name; *p; p++)
			depth += *p == '.';
		if (depth >= FORM_MAX_DEPTH) {
			rc = api_fail(e, API_INVALID_PARAMETER, "The parameter `%s` is nested too "
				      "deeply.", shown(name, nb));
			break;
		}
		for (;;) {
			const char *dot = strchr(seg, '.');
			size_t slen = dot ? (size_t)(dot - seg) : strlen(seg), idx;
			char key[128];
			json_t *child;

			if (!slen || slen >= sizeof(key) ||
			    (is_index(seg, slen, &idx) && idx >= FORM_MAX_INDEX)) {
				rc = api_fail(e, API_INVALID_PARAMETER, !slen ?
					      "The parameter name `%s` is malformed." :
					      "The parameter `%s` has an index or name out of range "
					      "(indices are below 1000).", shown(name, nb));
				break;
			}
			memcpy(key, seg, slen);
			key[slen] = '\0';
			child = json_object_get(node, key);
			if (!dot) {
				if (child) {
					rc = api_fail(e, API_INVALID_PARAMETER, "The parameter `%s` "
						      "is given both as a value and as a list or "
						      "structure.", shown(name, nb));
					break;
				}
				if (json_object_set_new(node, key, json_string(f->v[i].value)))
					rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
				break;
			}
			if (!child) {
				child = json_object();
				if (json_object_set_new(node, key, child)) {
					rc = api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
					break;
				}
			}
			else if (!json_is_object(child)) {
				rc = api_fail(e, API_INVALID_PARAMETER, "The parameter `%s` is given "
					      "both as a value and as a list or structure.",
					      shown(name, nb));
				break;
			}
			node = child;
			seg = dot + 1;
		}
	}
	if (rc == API_OK) {
		json_t *top = root;

		rc = arrays_make(&top, path, 0, sizeof(path), e);
		/* The top level has names (public ones are skipped), so it never becomes a
		 * list unless every name is an index: refuse that as a malformed request. */
		if (top != root) {
			json_decref(top);
			rc = api_fail(e, API_INVALID_PARAMETER, "Parameter names must not be "
				      "bare list indices.");
		}
	}
	if (rc)
		json_decref(root);
	else
		*objp = root;
	return rc;
}
