/* conf: the configuration file — syntax here, meaning in each module.
 *
 * The file is INI-like:
 *
 *     # a comment (whole lines only: '#' is also a DTMF key in values)
 *     [api]
 *     listen = 127.0.0.1:8080
 *     [trunk carrier1]
 *     host = 10.0.0.1
 *
 * A section header is "[type]" or "[type name]". conf only parses; each module reads its
 * own section(s) with the typed getters below, which check the value and report the line.
 * Every key a getter reads is marked used; conf_unused() then names the first key or
 * section nobody read, so a misspelt key is an error rather than a silent default. */
#ifndef CCCD_CONF_H
#define CCCD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_section;

/* Where and why a config was refused. line 0 means the file as a whole. */
struct conf_err {
	unsigned line;
	char msg[256];
};

void conf_err_set(struct conf_err *err, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int conf_parse(struct conf **cfp, const char *text, size_t len, struct conf_err *err);
int conf_load(struct conf **cfp, const char *path, struct conf_err *err);

/* Sections of a type in file order; NULL when there is none (getters accept NULL and give
 * the default). */
const struct conf_section *conf_section_first(const struct conf *cf, const char *type);
const struct conf_section *conf_section_next(const struct conf_section *sec);
const char *conf_section_name(const struct conf_section *sec); /* "" when unnamed */
unsigned conf_section_line(const struct conf_section *sec);

/* Typed getters: 0, or EINVAL with err filled (line and reason). A key given twice in one
 * section is an error for these; use conf_each for keys that may repeat. */
int conf_str(const struct conf_section *sec, const char *key, const char *def,
	     const char **valp, struct conf_err *err);
int conf_uint(const struct conf_section *sec, const char *key, uint64_t def, uint64_t min,
	      uint64_t max, uint64_t *valp, struct conf_err *err);
int conf_bool(const struct conf_section *sec, const char *key, bool def, bool *valp,
	      struct conf_err *err);
/* One of `choices` (NULL-terminated); *idxp is its index. */
int conf_choice(const struct conf_section *sec, const char *key, const char *def,
		const char *const *choices, int *idxp, struct conf_err *err);
/* "host:port" or "[v6]:port" with a numeric IP; host and port are checked. */
int conf_addr(const struct conf_section *sec, const char *key, const char *def,
	      char *host, size_t hostsz, uint16_t *portp, struct conf_err *err);

/* Every value of a repeatable key, in file order. h returns 0 or fills err and returns
 * an errno, which stops the walk. */
typedef int (conf_value_h)(const char *value, unsigned line, void *arg, struct conf_err *err);
int conf_each(const struct conf_section *sec, const char *key, conf_value_h *h, void *arg,
	      struct conf_err *err);

/* The line of a key in a section, 0 when absent (for errors found after reading). */
unsigned conf_key_line(const struct conf_section *sec, const char *key);

/* After every module has read its part: EINVAL naming the first unknown section or key. */
int conf_unused(const struct conf *cf, struct conf_err *err);

/* Reporting every error rather than the first (cccd --check-config). A module's reader
 * stops at its first bad key, so the keys after it were never read and conf_unused would
 * call them unknown: call conf_reader_begin before each reader, and conf_reader_failed
 * after one that failed — every key of the sections it looked at then counts as read. */
void conf_reader_begin(struct conf *cf);
void conf_reader_failed(struct conf *cf);
/* Every unknown section or key, in file order, each to h; returns how many. */
typedef void (conf_err_h)(const struct conf_err *err, void *arg);
unsigned conf_unused_each(const struct conf *cf, conf_err_h *h, void *arg);

#endif
