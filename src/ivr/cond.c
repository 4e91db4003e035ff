/* ivr conditions: the comparison operators of condition nodes. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ivr/ivr_int.h"

static const struct {
	const char *name;
	enum cond_op op;
} ops[] = {
	{"eq", OP_EQ}, {"ne", OP_NE}, {"contains", OP_CONTAINS}, {"prefix", OP_PREFIX},
	{"suffix", OP_SUFFIX}, {"lt", OP_LT}, {"gt", OP_GT}, {"le", OP_LE}, {"ge", OP_GE},
	{"empty", OP_EMPTY}, {"notEmpty", OP_NOT_EMPTY}, {"in", OP_IN},
};

int cond_op_parse(const char *s, enum cond_op *op)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!strcmp(s, ops[i].name)) {
			*op = ops[i].op;
			return 0;
		}
	}
	return EINVAL;
}

/* A whole string that is a finite decimal number (leading/trailing blanks allowed). */
static bool number(const char *s, double *v)
{
	char *end;

	if (!*s)
		return false;
	*v = strtod(s, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	return end != s && !*end && isfinite(*v);
}

/* `lhs` equal to one of the comma-separated items of `list` (items trimmed of blanks). */
static bool in_list(const char *lhs, const char *list)
{
	size_t n = strlen(lhs);
	const char *p = list;

	for (;;) {
		const char *e = strchr(p, ',');
		const char *end = e ? e : p + strlen(p);

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - p) == n && !memcmp(p, lhs, n))
			return true;
		if (!e)
			return false;
		p = e + 1;
	}
}

/* Numeric operators are false when either side is not a number: a missing or garbled
 * value then takes the condition's other branches instead of a random one. */
bool cond_eval(enum cond_op op, const char *lhs, const char *rhs)
{
	double a, b;
	size_t ll = strlen(lhs), rl = strlen(rhs);

	switch (op) {
	case OP_EQ:        return !strcmp(lhs, rhs);
	case OP_NE:        return strcmp(lhs, rhs) != 0;
	case OP_CONTAINS:  return strstr(lhs, rhs) != NULL;
	case OP_PREFIX:    return !strncmp(lhs, rhs, rl);
	case OP_SUFFIX:    return ll >= rl && !strcmp(lhs + ll - rl, rhs);
	case OP_EMPTY:     return ll == 0;
	case OP_NOT_EMPTY: return ll != 0;
	case OP_IN:        return in_list(lhs, rhs);
	default:
		break;
	}
	if (!number(lhs, &a) || !number(rhs, &b))
		return false;
	switch (op) {
	case OP_LT: return a < b;
	case OP_GT: return a > b;
	case OP_LE: return a <= b;
	case OP_GE: return a >= b;
	default:    return false;
	}
}
