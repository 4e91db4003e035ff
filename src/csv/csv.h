/* csv: an RFC 4180 reader — a table of strings, every row as wide as the first. */
#ifndef CCCD_CSV_H
#define CCCD_CSV_H

#include <stddef.h>

struct csv {
	size_t rows;   /* the header row included */
	size_t cols;   /* the first row's field count */
	char **cells;  /* rows × cols, row-major; each a mem string */
	size_t *line;  /* each row's first line in the text (1-based) */
};

/* Reads text (len bytes; NUL bytes refused) into *csvp (mem, one owner). Fields are
 * separated by commas, records by LF or CRLF; a field in double quotes may hold commas,
 * line breaks and doubled quotes (""). Blank lines are skipped and a leading UTF-8 BOM
 * dropped. EINVAL with why = "line N: ..." for an empty text, a quote inside an unquoted
 * field, text after a closing quote, an unterminated quote, or a row whose field count
 * differs from the first row's. */
int csv_parse(struct csv **csvp, const char *text, size_t len, char *why, size_t whysz);

static inline const char *csv_cell(const struct csv *c, size_t row, size_t col)
{
	return c->cells[row * c->cols + col];
}

#endif
