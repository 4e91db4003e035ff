/* help: the command line's view of the actions' parameter tables. `ccc help ACTION`, the
 * man page and the typing of `ccc ACTION --Param value` all read each action's `fields`,
 * the very table api_validate checks requests against, so the help can never describe a
 * parameter, type or limit the API does not enforce. A new action needs nothing here: its
 * entry in actions.c (name, fields, summary) is all the help and the man page read. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/api_int.h"

static const char *type_name(const struct api_field *f)
{
	switch (f->type) {
	case API_T_INT64:
	case API_T_UINT64: return "Integer";
	case API_T_STRING: return "String";
	case API_T_BOOL:   return "Boolean";
	case API_T_STRUCT: return "Object";
	case API_T_ANY:    return "JSON";
	}
	return "?";
}

/* "Array of String", "Integer", ... */
static void type_text(const struct api_field *f, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s%s", f->array ? "Array of " : "", type_name(f));
}

/* The limits api_validate enforces, in words; "" when none. */
static void limits_text(const struct api_field *f, char *buf, size_t sz)
{
	size_t n = 0;

	buf[0] = '\0';
	if (f->array && f->max_items)
		n += (size_t)snprintf(buf + n, sz - n, "at most %zu items%s", f->max_items,
				      f->type == API_T_STRUCT || f->type == API_T_BOOL ? "" :
				      ", each ");
	if (n >= sz)
		return;
	switch (f->type) {
	case API_T_INT64:
	case API_T_UINT64:
		if (f->max == INT64_MAX && f->min <= 0 && f->type == API_T_UINT64)
			snprintf(buf + n, sz - n, ">= 0");
		else if (f->max == INT64_MAX)
			snprintf(buf + n, sz - n, ">= %" PRId64, f->min);
		else
			snprintf(buf + n, sz - n, "%" PRId64 "..%" PRId64, f->min, f->max);
		break;
	case API_T_STRING:
		if (f->max)
			snprintf(buf + n, sz - n, "%" PRId64 "..%" PRId64 " bytes", f->min, f->max);
		else if (f->min)
			snprintf(buf + n, sz - n, "at least %" PRId64 " bytes", f->min);
		else if (n >= 2)
			buf[n - 2] = '\0';  /* drop ", each " */
		for (size_t i = 0; f->choices && f->choices[i]; i++) {
			size_t len = strlen(buf);

			snprintf(buf + len, sz - len, "%s%s", i ? "|" : "; one of ", f->choices[i]);
		}
		break;
	case API_T_ANY:
		snprintf(buf + n, sz - n, "accepted, not used");
		break;
	case API_T_BOOL:
	case API_T_STRUCT:
		break;
	}
}

static const struct api_field *field_find(const struct api_field *fields, const char *name)
{
	for (; fields && fields->name; fields++) {
		if (!strcmp(fields->name, name))
			return fields;
	}
	return NULL;
}

static void fields_print(FILE *out, const struct api_field *fields, int depth)
{
	for (const struct api_field *f = fields; f->name; f++) {
		char type[32], lim[96], name[80];

		type_text(f, type, sizeof(type));
		limits_text(f, lim, sizeof(lim));
		snprintf(name, sizeof(name), "%s%s", depth ? "." : "--", f->name);
		fprintf(out, "  %*s%-*s %-17s %-9s %s\n", depth * 4, "", 26 - depth * 4, name, type,
			f->required ? "required" : "optional", lim);
		if (f->type == API_T_STRUCT)
			fields_print(out, f->members, depth + 1);
	}
}

bool api_action_served(const char *name)
{
	return api_action_find(name) != NULL;
}

int api_help_action(FILE *out, const char *name)
{
	const struct api_action *a = api_action_find(name);

	if (!a)
		return ENOENT;
	fprintf(out, "%s: %s\n\nusage: ccc %s [--Param VALUE ...] [--cli-input-json FILE]\n"
		"       [--endpoint [https://]HOST:PORT]\n\nparameters:\n", a->name, a->summary ? a->summary : "",
		a->name);
	if (!a->fields || !a->fields->name)
		fprintf(out, "  (none)\n");
	else
		fields_print(out, a->fields, 0);
	fprintf(out, "\nArrays and objects are given as JSON (--Callers '[\"0086...\"]'); "
		"members of an object\nare shown with a leading dot. Integer ranges are "
		"inclusive; string lengths are in bytes.\n");
	return 0;
}

void api_help_actions(FILE *out)
{
	for (size_t i = 0; api_action_at(i); i++) {
		const struct api_action *a = api_action_at(i);

		fprintf(out, "  %-30s %s\n", a->name, a->summary ? a->summary : "");
	}
}

/* roff text: backslashes doubled, a leading dot or quote escaped. */
static void roff(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

static void man_fields(FILE *out, const struct api_field *fields, const char *prefix)
{
	for (const struct api_field *f = fields; f->name; f++) {
		char type[32], lim[96], path[96];

		type_text(f, type, sizeof(type));
		limits_text(f, lim, sizeof(lim));
		snprintf(path, sizeof(path), "%s%s", prefix, f->name);
		fputs(".TP\n.B ", out);
		roff(out, *prefix ? path : "--");
		if (!*prefix)
			roff(out, f->name);
		fputs("\n", out);
		roff(out, type);
		fputs(f->required ? ", required" : ", optional", out);
		if (lim[0]) {
			fputs("; ", out);
			roff(out, lim);
		}
		fputs(".\n", out);
		if (f->type == API_T_STRUCT) {
			char sub[100];

			snprintf(sub, sizeof(sub), "%s.", *prefix ? path : f->name);
			man_fields(out, f->members, sub);
		}
	}
}

void api_help_man(FILE *out)
{
	fputs(".\\\" Generated by `ccc --man` from the API's parameter tables; do not edit.\n"
	      ".TH CCC 1 \"\" \"cccd\" \"User Commands\"\n"
	      ".SH NAME\nccc \\- call the cccd contact-center API (tccli style) and manage cccd\n"
	      ".SH SYNOPSIS\n.B ccc\n.I ACTION\n[\\fB\\-\\-Param\\fR \\fIVALUE\\fR ...] "
	      "[\\fB\\-\\-cli\\-input\\-json\\fR \\fIFILE\\fR] [\\fB\\-\\-endpoint\\fR "
	      "\\fIHOST:PORT\\fR]\n.br\n.B ccc call\n.I ACTION\n[\\fIKey=Value\\fR ...]\n.br\n"
	      ".B ccc help\n[\\fIACTION\\fR]\n.br\n.B ccc\n\\fBadmin\\fR | \\fBpush\\fR | "
	      "\\fBivr\\fR | \\fBtask\\fR ...\n"
	      ".SH DESCRIPTION\nThe first form calls one action of the ccc 2020\\-02\\-10 API as "
	      "\\fBtccli ccc\\fR does: each parameter is an option named as in the API; arrays "
	      "and objects are given as JSON (\\fB\\-\\-Callers '[\"008601012345678\"]'\\fR); "
	      "\\fB\\-\\-cli\\-input\\-json\\fR reads all parameters from a JSON file "
	      "(\\fBfile://\\fR prefix optional), options given as well override it. The "
	      "request is signed with TC3\\-HMAC\\-SHA256 from TENCENTCLOUD_SECRET_ID and "
	      "TENCENTCLOUD_SECRET_KEY and sent to \\fB\\-\\-endpoint\\fR, else CCC_ENDPOINT, "
	      "else 127.0.0.1:8080.\n.PP\nThe response is printed as JSON (indented on a "
	      "terminal). An error response prints its code and message on standard error "
	      "and exits 1.\n"
	      ".SH EXIT STATUS\n0 success; 1 an error response or no answer; 2 bad usage (an "
	      "unknown action or parameter, a value that is not valid JSON).\n"
	      ".SH ACTIONS\nThe parameters, types and limits below are the tables the API "
	      "validates requests against.\n", out);
	for (size_t i = 0; api_action_at(i); i++) {
		const struct api_action *a = api_action_at(i);

		fputs(".SS ", out);
		roff(out, a->name);
		fputs("\n", out);
		roff(out, a->summary ? a->summary : "");
		fputs(".\n", out);
		if (a->fields)
			man_fields(out, a->fields, "");
	}
	fputs(".SH SEE ALSO\ncccd(8); docs/api-compatibility.md, docs/admin-api.md\n", out);
}

int api_param_json(const char *action, const char *name, const char *text, json_t **vp,
		   char *why, size_t wsz)
{
	const struct api_action *a = api_action_find(action);
	const struct api_field *f = a ? field_find(a->fields, name) : NULL;
	json_error_t jerr;
	char *end;
	long long n;

	if (!a)
		return ENOENT;
	if (!f) {
		snprintf(why, wsz, "%s has no parameter --%s (see ccc help %s)", action, name,
			 action);
		return EINVAL;
	}
	if (f->type == API_T_ANY) { /* JSON when it reads as JSON, else the text */
		*vp = json_loads(text, JSON_DECODE_ANY, &jerr);
		if (!*vp)
			*vp = json_string(text);
		return *vp ? 0 : ENOMEM;
	}
	if (f->array || f->type == API_T_STRUCT) {
		*vp = json_loads(text, JSON_DECODE_ANY, &jerr);
		if (!*vp) {
			snprintf(why, wsz, "--%s must be JSON (%s%s): %s", name,
				 f->array ? "Array of " : "", type_name(f), jerr.text);
			return EINVAL;
		}
		return 0;
	}
	/* A scalar the table cannot type is sent as given: the API's answer names it. */
	errno = 0;
	n = strtoll(text, &end, 10);
	if ((f->type == API_T_INT64 || f->type == API_T_UINT64) && *text && !*end && !errno)
		*vp = json_integer(n);
	else if (f->type == API_T_BOOL && (!strcmp(text, "true") || !strcmp(text, "false")))
		*vp = json_boolean(!strcmp(text, "true"));
	else if (!(*vp = json_string(text))) {
		snprintf(why, wsz, "--%s is not UTF-8 text", name);
		return EINVAL;
	}
	return 0;
}
