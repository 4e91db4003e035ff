/* csv: RFC 4180, read in one pass. The reader keeps the current record's fields in a
 * growing array; at each record's end it checks the field count against the first
 * record's and appends the fields to the table. Line numbers count physical lines, so
 * an error in a record whose quoted field spans lines names the line where it is. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_mbuf.h>
#include "csv/csv.h"

struct reader {
	struct csv *csv;
	char **rec;          /* the current record's fields (mem strings) */
	size_t n, cap;
	size_t cells_cap;
	size_t lines_cap;
	struct mbuf *field;
	char *why;
	size_t whysz;
};

static void csv_destructor(void *arg)
{
	struct csv *c = arg;

	for (size_t i = 0; c->cells && i < c->rows * c->cols; i++)
		mem_deref(c->cells[i]);
	mem_deref(c->cells);
	mem_deref(c->line);
}

static int fail(struct reader *r, size_t line, const char *fmt, ...)
{
	int n = snprintf(r->why, r->whysz, "line %zu: ", line);
	va_list ap;

	if (n >= 0 && (size_t)n < r->whysz) {
		va_start(ap, fmt);
		vsnprintf(r->why + n, r->whysz - n, fmt, ap);
		va_end(ap);
	}
	return EINVAL;
}

static int field_end(struct reader *r)
{
	char *s = NULL;
	int err;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		char **rec = mem_reallocarray(r->rec, cap, sizeof(*rec), NULL);

		if (!rec)
			return ENOMEM;
		r->rec = rec;
		r->cap = cap;
	}
	mbuf_set_pos(r->field, 0);
	err = mbuf_strdup(r->field, &s, r->field->end);
	if (err)
		return err;
	r->rec[r->n++] = s;
	mbuf_rewind(r->field);
	return 0;
}

/* Moves the record's fields into the table; line is where the record began. */
static int record_end(struct reader *r, size_t line)
{
	struct csv *c = r->csv;

	if (!c->rows)
		c->cols = r->n;
	else if (r->n != c->cols)
		return fail(r, line, "%zu fields where the header has %zu", r->n, c->cols);
	if ((c->rows + 1) * c->cols > r->cells_cap) {
		size_t cap = r->cells_cap ? r->cells_cap * 2 : 64 * c->cols;
		char **cells = mem_reallocarray(c->cells, cap, sizeof(*cells), NULL);

		if (!cells)
			return ENOMEM;
		c->cells = cells;
		r->cells_cap = cap;
	}
	if (c->rows == r->lines_cap) {
		size_t cap = r->lines_cap ? r->lines_cap * 2 : 64;
		size_t *lines = mem_reallocarray(c->line, cap, sizeof(*lines), NULL);

		if (!lines)
			return ENOMEM;
		c->line = lines;
		r->lines_cap = cap;
	}
	memcpy(c->cells + c->rows * c->cols, r->rec, r->n * sizeof(*r->rec));
	c->line[c->rows++] = line;
	r->n = 0;
	return 0;
}

static int parse(struct reader *r, const char *p, const char *end)
{
	size_t line = 1, rec_line = 1, quote_line = 0;
	bool quoted = false, after_quote = false, at_start = true;
	int err = 0;

	if (end - p >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	for (; p < end && !err; p++) {
		char ch = *p;

		if (ch == '\0')
			return fail(r, line, "a NUL byte");
		if (quoted) {
			if (ch == '"' && p + 1 < end && p[1] == '"')
				err = mbuf_write_u8(r->field, *p++);
			else if (ch == '"')
				quoted = false, after_quote = true;
			else
				err = mbuf_write_u8(r->field, ch);
			line += ch == '\n';
			continue;
		}
		if (ch == '\r' && p + 1 < end && p[1] == '\n')
			continue;
		if (ch == '\n') {
			/* A line with nothing on it is no record. */
			if (!(at_start && !r->n)) {
				err = field_end(r);
				err = err ? err : record_end(r, rec_line);
			}
			line++;
			rec_line = line;
			at_start = true;
			after_quote = false;
			continue;
		}
		if (ch == ',') {
			err = field_end(r);
			after_quote = false;
			at_start = false;
			continue;
		}
		if (after_quote)
			return fail(r, line, "'%c' after a closing quote (a quoted field ends "
				    "at a comma or the line's end)", ch);
		if (ch == '"') {
			if (r->field->end)
				return fail(r, line, "a quote inside an unquoted field (quote the "
					    "whole field and double the quote)");
			quoted = true;
			quote_line = line;
			at_start = false;
			continue;
		}
		err = mbuf_write_u8(r->field, ch);
		at_start = false;
	}
	if (err)
		return err;
	if (quoted)
		return fail(r, quote_line, "a quote that is never closed");
	if (!(at_start && !r->n)) {
		err = field_end(r);
		err = err ? err : record_end(r, rec_line);
	}
	if (!err && !r->csv->rows)
		return fail(r, 1, "no header row (the file is empty)");
	return err;
}

int csv_parse(struct csv **csvp, const char *text, size_t len, char *why, size_t whysz)
{
	struct reader r = {.why = why, .whysz = whysz};
	int err;

	if (!csvp || !text || !why || !whysz)
		return EINVAL;
	*why = '\0';
	r.csv = mem_zalloc(sizeof(*r.csv), csv_destructor);
	r.field = mbuf_alloc(256);
	if (!r.csv || !r.field) {
		err = ENOMEM;
		goto out;
	}
	err = parse(&r, text, text + len);
out:
	for (size_t i = 0; i < r.n; i++)
		mem_deref(r.rec[i]);
	mem_deref(r.rec);
	mem_deref(r.field);
	if (err) {
		if (err == ENOMEM && !*why)
			snprintf(why, whysz, "out of memory");
		mem_deref(r.csv);
		return err;
	}
	*csvp = r.csv;
	return 0;
}
