/* ivr templates: `${Name}` substitution in prompt texts, URLs, bodies and values. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_tmr.h>
#include <re_main.h>
#include "ivr/ivr_int.h"

static const char *const sysvars[] = {
	"SystemCallerNumber", "SystemCalleeNumber", "SystemSessionId", "SystemSdkAppId",
	"SystemStartTime", "SystemUUI", "SystemCallRingDuration", "SystemCallAcceptDuration",
	"SystemDigitsSpoken", "SystemHttpStatus",
};

bool sysvar_is(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(sysvars) / sizeof(sysvars[0]); i++) {
		if (strlen(sysvars[i]) == len && !memcmp(sysvars[i], name, len))
			return true;
	}
	return false;
}

static bool name_first(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
	return name_first(c) || (c >= '0' && c <= '9') || c == '.';
}

/* Walks a template: literal runs go to `lit`, names to `name`. The one parser both the
 * validator and the renderer use, so they cannot disagree about the syntax. */
typedef int (walk_lit_h)(const char *p, size_t len, void *arg);

static int walk(const char *t, walk_lit_h *lit, tmpl_name_h *name, void *arg,
		char *why, size_t whysz)
{
	const char *p = t, *run = t;
	int err;

	while (*p) {
		if (*p != '$') {
			p++;
			continue;
		}
		if (p[1] == '$') {
			if (lit && (err = lit(run, (size_t)(p - run) + 1, arg)))
				return err;
			p += 2;
			run = p;
			continue;
		}
		if (p[1] != '{') {
			p++;
			continue;
		}
		if (lit && p > run && (err = lit(run, (size_t)(p - run), arg)))
			return err;
		const char *s = p + 2, *e = s;
		if (!name_first(*e)) {
			if (why)
				snprintf(why, whysz, "bad variable name after '${' at offset %zu",
					 (size_t)(p - t));
			return EINVAL;
		}
		while (name_char(*e))
			e++;
		if (*e != '}') {
			if (why)
				snprintf(why, whysz, "'${' at offset %zu is not closed by '}'",
					 (size_t)(p - t));
			return EINVAL;
		}
		if ((size_t)(e - s) > 63) {
			if (why)
				snprintf(why, whysz, "variable name at offset %zu is longer than 63",
					 (size_t)(p - t));
			return EINVAL;
		}
		if (name)
			name(s, (size_t)(e - s), arg);
		p = e + 1;
		run = p;
	}
	if (lit && p > run)
		return lit(run, (size_t)(p - run), arg);
	return 0;
}

int tmpl_scan(const char *t, tmpl_name_h *h, void *arg, char *why, size_t whysz)
{
	if (!t)
		return 0;
	return walk(t, NULL, h, arg, why, whysz);
}

struct render {
	char *buf;
	size_t len, cap;
	int err;
	tmpl_lookup_h *lookup;
	void *arg;
};

static int render_put(struct render *r, const char *p, size_t len)
{
	if (r->len + len + 1 > r->cap) {
		size_t cap = (r->len + len + 1) * 2;
		char *nb = mem_realloc(r->buf, cap);
		if (!nb)
			return ENOMEM;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, len);
	r->len += len;
	r->buf[r->len] = '\0';
	return 0;
}

static int render_lit(const char *p, size_t len, void *arg)
{
	return render_put(arg, p, len);
}

static void render_name(const char *name, size_t len, void *arg)
{
	struct render *r = arg;
	char nm[64];
	const char *v;

	memcpy(nm, name, len);
	nm[len] = '\0';
	v = r->lookup(nm, r->arg);
	if (v && *v && !r->err)
		r->err = render_put(r, v, strlen(v));
}

int tmpl_render(char **outp, const char *t, tmpl_lookup_h *lookup, void *arg)
{
	struct render r = {.lookup = lookup, .arg = arg};
	int err;

	if (!outp)
		return EINVAL;
	r.buf = mem_alloc(64, NULL);
	if (!r.buf)
		return ENOMEM;
	r.cap = 64;
	r.buf[0] = '\0';
	/* A malformed template cannot reach a run (the validator refuses it); if one did, the
	 * text up to the error is what renders. */
	err = walk(t ? t : "", render_lit, render_name, &r, NULL, 0);
	if (err == EINVAL)
		err = 0;
	if (!err)
		err = r.err;
	if (err) {
		mem_deref(r.buf);
		return err;
	}
	*outp = r.buf;
	return 0;
}
