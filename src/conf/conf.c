/* conf: parsing of the INI-like config file and the typed, line-reporting getters. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <re.h>
#include "conf/conf.h"

/* Limits that keep a hostile or broken file from costing much. */
enum { CONF_MAX_BYTES = 1 << 20, CONF_MAX_LINE = 4096 };

struct conf_entry {
	struct le le;
	char *key;
	char *value;
	unsigned line;
	bool used;
};

struct conf_section {
	struct le le;
	char *type;
	char *name;
	unsigned line;
	struct list entries;
	bool used;
	struct conf *cf;      /* the file it is in (which owns it) */
	unsigned seen;        /* the reader that looked at it last (conf_reader_begin) */
};

struct conf {
	struct list sections; /* owns its conf_section objects */
	unsigned reader;      /* bumped by conf_reader_begin */
};

void conf_err_set(struct conf_err *err, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static void entry_destructor(void *arg)
{
	struct conf_entry *e = arg;

	list_unlink(&e->le);
	mem_deref(e->key);
	mem_deref(e->value);
}

static void section_destructor(void *arg)
{
	struct conf_section *s = arg;

	list_flush(&s->entries);
	list_unlink(&s->le);
	mem_deref(s->type);
	mem_deref(s->name);
}

static void conf_destructor(void *arg)
{
	struct conf *cf = arg;

	list_flush(&cf->sections);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static bool is_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	}
	return true;
}

static int section_add(struct conf *cf, char *hdr, unsigned line, struct conf_section **secp,
		       struct conf_err *err)
{
	struct conf_section *sec;
	char *type = trim(hdr), *name = "", *sp;
	int e;

	sp = strpbrk(type, " \t");
	if (sp) {
		*sp = '\0';
		name = trim(sp + 1);
	}
	if (!is_ident(type) || (*name && !is_ident(name))) {
		conf_err_set(err, line, "bad section header: expected [type] or [type name] "
			     "with letters, digits, '_', '-' or '.'");
		return EINVAL;
	}
	for (struct le *le = cf->sections.head; le; le = le->next) {
		const struct conf_section *o = le->data;

		if (!strcmp(o->type, type) && !strcmp(o->name, name)) {
			conf_err_set(err, line, "section [%s%s%s] given twice (first at line %u)",
				     type, *name ? " " : "", name, o->line);
			return EINVAL;
		}
	}

	sec = mem_zalloc(sizeof(*sec), section_destructor);
	if (!sec)
		return ENOMEM;
	e = str_dup(&sec->type, type);
	e |= str_dup(&sec->name, name);
	if (e) {
		mem_deref(sec);
		return ENOMEM;
	}
	sec->line = line;
	sec->cf = cf;
	list_append(&cf->sections, &sec->le, sec);
	*secp = sec;
	return 0;
}

static int entry_add(struct conf_section *sec, char *text, unsigned line, struct conf_err *err)
{
	struct conf_entry *e;
	char *eq = strchr(text, '='), *key, *value;
	int rc;

	if (!eq) {
		conf_err_set(err, line, "expected 'key = value'");
		return EINVAL;
	}
	*eq = '\0';
	key = trim(text);
	value = trim(eq + 1);
	/* `key = ""` is how people write an empty value; the quotes are not part of it. */
	if (!strcmp(value, "\"\""))
		value[0] = '\0';
	if (!is_ident(key)) {
		conf_err_set(err, line, "bad key '%s': use letters, digits, '_', '-' or '.'", key);
		return EINVAL;
	}

	e = mem_zalloc(sizeof(*e), entry_destructor);
	if (!e)
		return ENOMEM;
	rc = str_dup(&e->key, key);
	rc |= str_dup(&e->value, value);
	if (rc) {
		mem_deref(e);
		return ENOMEM;
	}
	e->line = line;
	list_append(&sec->entries, &e->le, e);
	return 0;
}

int conf_parse(struct conf **cfp, const char *text, size_t len, struct conf_err *err)
{
	struct conf_section *sec = NULL;
	struct conf *cf;
	char buf[CONF_MAX_LINE + 2];
	unsigned line = 0;
	size_t pos = 0;
	int rc = 0;

	if (!cfp || (!text && len))
		return EINVAL;
	if (len > CONF_MAX_BYTES) {
		conf_err_set(err, 0, "file is larger than %d bytes", CONF_MAX_BYTES);
		return EINVAL;
	}

	cf = mem_zalloc(sizeof(*cf), conf_destructor);
	if (!cf)
		return ENOMEM;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *s;

		++line;
		if (n > CONF_MAX_LINE) {
			conf_err_set(err, line, "line longer than %d characters", CONF_MAX_LINE);
			rc = EINVAL;
			goto out;
		}
		if (memchr(text + pos, '\0', n)) {
			conf_err_set(err, line, "NUL byte in line");
			rc = EINVAL;
			goto out;
		}
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		pos += n + (nl ? 1 : 0);

		s = trim(buf);
		if (!*s || *s == '#' || *s == ';')
			continue;

		if (*s == '[') {
			char *close = strchr(s, ']');

			if (!close || *trim(close + 1)) {
				conf_err_set(err, line, "section header must be [type] or "
					     "[type name] alone on its line");
				rc = EINVAL;
				goto out;
			}
			*close = '\0';
			rc = section_add(cf, s + 1, line, &sec, err);
			if (rc)
				goto out;
			continue;
		}
		if (!sec) {
			conf_err_set(err, line, "key outside any section: start with a "
				     "[section] header");
			rc = EINVAL;
			goto out;
		}
		rc = entry_add(sec, s, line, err);
		if (rc)
			goto out;
	}

out:
	if (rc)
		mem_deref(cf);
	else
		*cfp = cf;
	return rc;
}

int conf_load(struct conf **cfp, const char *path, struct conf_err *err)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;
	int rc = 0;

	if (!f) {
		rc = errno;
		conf_err_set(err, 0, "cannot open %s: %s", path, strerror(rc));
		return rc;
	}
	text = malloc(CONF_MAX_BYTES + 1);
	if (!text) {
		rc = ENOMEM;
		goto out;
	}
	len = fread(text, 1, CONF_MAX_BYTES + 1, f);
	if (ferror(f)) {
		rc = EIO;
		conf_err_set(err, 0, "cannot read %s", path);
		goto out;
	}
	rc = conf_parse(cfp, text, len, err);
out:
	free(text);
	fclose(f);
	return rc;
}

static const struct conf_section *section_find(const struct le *le, const char *type)
{
	for (; le; le = le->next) {
		struct conf_section *s = le->data;

		if (!strcmp(s->type, type)) {
			s->used = true;
			s->seen = s->cf->reader;
			return s;
		}
	}
	return NULL;
}

const struct conf_section *conf_section_first(const struct conf *cf, const char *type)
{
	return cf ? section_find(cf->sections.head, type) : NULL;
}

const struct conf_section *conf_section_next(const struct conf_section *sec)
{
	return sec ? section_find(sec->le.next, sec->type) : NULL;
}

const char *conf_section_name(const struct conf_section *sec)
{
	return sec ? sec->name : "";
}

unsigned conf_section_line(const struct conf_section *sec)
{
	return sec ? sec->line : 0;
}

/* The single entry for key, or NULL; EINVAL if the key is given twice. */
static int entry_find(const struct conf_section *sec, const char *key,
		      struct conf_entry **ep, struct conf_err *err)
{
	struct conf_entry *found = NULL;

	*ep = NULL;
	if (!sec)
		return 0;
	for (struct le *le = sec->entries.head; le; le = le->next) {
		struct conf_entry *e = le->data;

		if (strcmp(e->key, key))
			continue;
		e->used = true;
		if (found) {
			conf_err_set(err, e->line, "'%s' given twice in [%s] (first at line %u)",
				     key, sec->type, found->line);
			return EINVAL;
		}
		found = e;
	}
	*ep = found;
	return 0;
}

unsigned conf_key_line(const struct conf_section *sec, const char *key)
{
	if (!sec)
		return 0;
	for (struct le *le = sec->entries.head; le; le = le->next) {
		const struct conf_entry *e = le->data;

		if (!strcmp(e->key, key))
			return e->line;
	}
	return 0;
}

int conf_str(const struct conf_section *sec, const char *key, const char *def,
	     const char **valp, struct conf_err *err)
{
	struct conf_entry *e;
	int rc = entry_find(sec, key, &e, err);

	if (rc)
		return rc;
	*valp = e ? e->value : def;
	return 0;
}

int conf_uint(const struct conf_section *sec, const char *key, uint64_t def, uint64_t min,
	      uint64_t max, uint64_t *valp, struct conf_err *err)
{
	struct conf_entry *e;
	unsigned long long v;
	char *end;
	int rc = entry_find(sec, key, &e, err);

	if (rc)
		return rc;
	if (!e) {
		*valp = def;
		return 0;
	}
	errno = 0;
	v = strtoull(e->value, &end, 10);
	if (!*e->value || *end || e->value[0] == '-' || errno) {
		conf_err_set(err, e->line, "'%s' must be a whole number, not '%s'", key, e->value);
		return EINVAL;
	}
	if (v < min || v > max) {
		conf_err_set(err, e->line, "'%s' must be between %llu and %llu, not %llu", key,
			     (unsigned long long)min, (unsigned long long)max, v);
		return EINVAL;
	}
	*valp = v;
	return 0;
}

int conf_bool(const struct conf_section *sec, const char *key, bool def, bool *valp,
	      struct conf_err *err)
{
	static const char *const choices[] = {"no", "yes", "false", "true", "off", "on", NULL};
	int idx;
	int rc = conf_choice(sec, key, def ? "yes" : "no", choices, &idx, err);

	if (rc)
		return rc;
	*valp = idx % 2 == 1;
	return 0;
}

int conf_choice(const struct conf_section *sec, const char *key, const char *def,
		const char *const *choices, int *idxp, struct conf_err *err)
{
	struct conf_entry *e;
	const char *v;
	char list[200] = "";
	int rc = entry_find(sec, key, &e, err);

	if (rc)
		return rc;
	v = e ? e->value : def;
	for (int i = 0; choices[i]; i++) {
		if (!strcasecmp(v, choices[i])) {
			*idxp = i;
			return 0;
		}
		if (i)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, choices[i], sizeof(list) - strlen(list) - 1);
	}
	conf_err_set(err, e ? e->line : 0, "'%s' must be one of %s, not '%s'", key, list, v);
	return EINVAL;
}

int conf_addr(const struct conf_section *sec, const char *key, const char *def,
	      char *host, size_t hostsz, uint16_t *portp, struct conf_err *err)
{
	struct conf_entry *e;
	struct sa sa;
	const char *v;
	int rc = entry_find(sec, key, &e, err);

	if (rc)
		return rc;
	v = e ? e->value : def;
	if (sa_decode(&sa, v, strlen(v)) || !sa_port(&sa)) {
		conf_err_set(err, e ? e->line : 0, "'%s' must be a numeric address with a port "
			     "such as 127.0.0.1:8080 or [::1]:8080, not '%s'", key, v);
		return EINVAL;
	}
	if (re_snprintf(host, hostsz, "%j", &sa) < 0)
		return ENOMEM;
	*portp = sa_port(&sa);
	return 0;
}

int conf_each(const struct conf_section *sec, const char *key, conf_value_h *h, void *arg,
	      struct conf_err *err)
{
	if (!sec)
		return 0;
	for (struct le *le = sec->entries.head; le; le = le->next) {
		struct conf_entry *e = le->data;
		int rc;

		if (strcmp(e->key, key))
			continue;
		e->used = true;
		rc = h(e->value, e->line, arg, err);
		if (rc)
			return rc;
	}
	return 0;
}

int conf_unused(const struct conf *cf, struct conf_err *err)
{
	for (struct le *le = cf->sections.head; le; le = le->next) {
		const struct conf_section *s = le->data;

		if (!s->used) {
			conf_err_set(err, s->line, "unknown section [%s]", s->type);
			return EINVAL;
		}
		for (struct le *ke = s->entries.head; ke; ke = ke->next) {
			const struct conf_entry *e = ke->data;

			if (!e->used) {
				conf_err_set(err, e->line, "unknown key '%s' in [%s]", e->key,
					     s->type);
				return EINVAL;
			}
		}
	}
	return 0;
}

void conf_reader_begin(struct conf *cf)
{
	if (cf)
		cf->reader++;
}

/* The failed reader may have stopped before the later sections of a type it reads (the
 * second [trunk]): those count as read too. */
static bool type_seen(const struct conf *cf, const char *type)
{
	for (struct le *le = cf->sections.head; le; le = le->next) {
		const struct conf_section *s = le->data;

		if (s->seen == cf->reader && !strcmp(s->type, type))
			return true;
	}
	return false;
}

void conf_reader_failed(struct conf *cf)
{
	if (!cf)
		return;
	for (struct le *le = cf->sections.head; le; le = le->next) {
		struct conf_section *s = le->data;

		if (!type_seen(cf, s->type))
			continue;
		s->used = true;
		for (struct le *ke = s->entries.head; ke; ke = ke->next)
			((struct conf_entry *)ke->data)->used = true;
	}
}

unsigned conf_unused_each(const struct conf *cf, conf_err_h *h, void *arg)
{
	struct conf_err err;
	unsigned n = 0;

	for (struct le *le = cf->sections.head; le; le = le->next) {
		const struct conf_section *s = le->data;

		if (!s->used) {
			conf_err_set(&err, s->line, "unknown section [%s]", s->type);
			h(&err, arg);
			n++;
			continue;
		}
		for (struct le *ke = s->entries.head; ke; ke = ke->next) {
			const struct conf_entry *e = ke->data;

			if (e->used)
				continue;
			conf_err_set(&err, e->line, "unknown key '%s' in [%s]", e->key, s->type);
			h(&err, arg);
			n++;
		}
	}
	return n;
}
