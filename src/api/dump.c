/* dump: the reply envelope {"Response":{...,"RequestId":"..."}} written straight from the
 * action's jansson object, byte for byte what json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER)
 * wrote for it.
 *
 * Why not json_dumps: for every object and array it dumps, jansson 2.14 formats the node's
 * address with snprintf into a key and adds it to a hash table of the nodes being dumped
 * (its loop check), and it gathers the text in a buffer that grows from 16 bytes and is
 * copied once more at the end. Under bench/api's signed DescribeTelSession that was 8.7 %
 * of cccd's CPU (perf), nearly as much as the HMAC of the signature check. The trees an
 * action builds have no loops (each node is made for the reply and set once), so the walk
 * here needs no check; it writes into one malloc'd buffer that MHD frees with the reply.
 *
 * The output is jansson's: insertion order (2.14 keeps it), "," and ":" without spaces,
 * strings with the same escapes (\" \\ \b \f \n \r \t, other control characters and NUL as
 * \u00XX with upper-case hex; '/' and non-ASCII UTF-8 as they are), integers in decimal,
 * and reals through jansson itself (its precision and ".0" rule; rare in replies). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "api/api_int.h"

enum { DUMP_FIRST = 512 };

struct dump {
	char *p;    /* malloc'd; handed to the caller */
	size_t n;   /* bytes written */
	size_t cap; /* bytes allocated */
};

static int put(struct dump *d, const char *s, size_t len)
{
	if (d->n + len + 1 > d->cap) {
		size_t cap = d->cap ? d->cap : DUMP_FIRST;
		char *p;

		while (d->n + len + 1 > cap)
			cap *= 2;
		p = realloc(d->p, cap);
		if (!p)
			return ENOMEM;
		d->p = p;
		d->cap = cap;
	}
	memcpy(d->p + d->n, s, len);
	d->n += len;
	d->p[d->n] = '\0';
	return 0;
}

static int put_str(struct dump *d, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;
	int err = put(d, "\"", 1);

	/* Runs of bytes that need no escape are copied whole. */
	for (size_t i = 0; i < len && !err; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 0, '0', '0', 0, 0};
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		err = put(d, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		}
		err = err ? err : put(d, esc, n);
	}
	err = err ? err : put(d, s + run, len - run);
	return err ? err : put(d, "\"", 1);
}

static int put_int(struct dump *d, json_int_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return put(d, p, (size_t)(buf + sizeof(buf) - p));
}

static int put_value(struct dump *d, const json_t *j);

/* The members of object o, without braces; skip: a key left out (NULL: none). */
static int put_members(struct dump *d, const json_t *o, const char *skip, bool *any)
{
	const char *key;
	size_t klen;
	json_t *v;
	int err = 0;

	json_object_keylen_foreach((json_t *)o, key, klen, v) {
		if (skip && klen == strlen(skip) && !memcmp(key, skip, klen))
			continue;
		err = *any ? put(d, ",", 1) : 0;
		err = err ? err : put_str(d, key, klen);
		err = err ? err : put(d, ":", 1);
		err = err ? err : put_value(d, v);
		if (err)
			return err;
		*any = true;
	}
	return 0;
}

static int put_value(struct dump *d, const json_t *j)
{
	bool any = false;
	char *real;
	int err;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		err = put(d, "{", 1);
		err = err ? err : put_members(d, j, NULL, &any);
		return err ? err : put(d, "}", 1);
	case JSON_ARRAY:
		err = put(d, "[", 1);
		for (size_t i = 0; i < json_array_size(j) && !err; i++) {
			err = i ? put(d, ",", 1) : 0;
			err = err ? err : put_value(d, json_array_get(j, i));
		}
		return err ? err : put(d, "]", 1);
	case JSON_STRING:
		return put_str(d, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		return put_int(d, json_integer_value(j));
	case JSON_REAL:
		real = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		err = real ? put(d, real, strlen(real)) : ENOMEM;
		free(real);
		return err;
	case JSON_TRUE:
		return put(d, "true", 4);
	case JSON_FALSE:
		return put(d, "false", 5);
	default:
		return put(d, "null", 4);
	}
}

int api_reply_dump(const json_t *inner, const char *request_id, char **outp)
{
	struct dump d = {0};
	bool any = false;
	int err;

	if (!inner || !json_is_object(inner) || !request_id || !outp)
		return EINVAL;
	err = put(&d, "{\"Response\":{", 13);
	err = err ? err : put_members(&d, inner, "RequestId", &any);
	err = err ? err : put(&d, any ? ",\"RequestId\":" : "\"RequestId\":", any ? 13 : 12);
	err = err ? err : put_str(&d, request_id, strlen(request_id));
	err = err ? err : put(&d, "}}", 2);
	if (err) {
		free(d.p);
		return err;
	}
	*outp = d.p;
	return 0;
}
