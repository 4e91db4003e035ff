/* log: timestamped, levelled log lines on stderr, one write per line, as text or JSON. */
#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "base/base.h"

enum { LINE_MAX_BYTES = 2048, SID_LEN = 32, RID_LEN = 36 };

/* Read by every thread, changed by a reload on the loop: relaxed is enough, a line
 * written at the old level just after the change is harmless. */
static _Atomic int min_level = LOG_INFO;
static enum log_format format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* What the thread is working on now (log_context_*): copied, so a session or request
 * freed while its id is set never leaves a dangling pointer here. */
static _Thread_local char ctx_session[SID_LEN + 1];
static _Thread_local char ctx_request[RID_LEN + 1];

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&min_level, (int)level, memory_order_relaxed);
}

void log_set_format(enum log_format f)
{
	format = f;
}

bool log_enabled(enum log_level level)
{
	return (int)level >= atomic_load_explicit(&min_level, memory_order_relaxed);
}

int log_level_parse(const char *name, enum log_level *levelp)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcasecmp(name, level_names[i])) {
			*levelp = (enum log_level)i;
			return 0;
		}
	}
	return EINVAL;
}

static void ctx_set(char *dst, size_t size, const char *id, char *prev)
{
	if (prev)
		memcpy(prev, dst, size);
	snprintf(dst, size, "%s", id ? id : "");
}

void log_context_session(const char *session_id, char prev[LOG_SESSION_ID_SIZE])
{
	ctx_set(ctx_session, sizeof(ctx_session), session_id, prev);
}

void log_context_request(const char *request_id, char prev[LOG_REQUEST_ID_SIZE])
{
	ctx_set(ctx_request, sizeof(ctx_request), request_id, prev);
}

/* cccd's lines about a session start with its SessionId ("<32 hex>: ..." or
 * "<32 hex> finished ..."); such a line names its session even where no context is set
 * (the call module's lines, written from libre's callbacks). */
static bool leading_session(const char *msg, char out[SID_LEN + 1])
{
	for (int i = 0; i < SID_LEN; i++) {
		char ch = msg[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
	}
	if (msg[SID_LEN] != ':' && msg[SID_LEN] != ' ' && msg[SID_LEN] != '\0')
		return false;
	memcpy(out, msg, SID_LEN);
	out[SID_LEN] = '\0';
	return true;
}

/* Appends s to line[*n] as the inside of a JSON string; stops short of the end. */
static void json_escape(char *line, size_t size, size_t *n, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s && *n + 8 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			line[(*n)++] = '\\';
			line[(*n)++] = (char)ch;
		}
		else if (ch == '\n') {
			line[(*n)++] = '\\';
			line[(*n)++] = 'n';
		}
		else if (ch == '\t') {
			line[(*n)++] = '\\';
			line[(*n)++] = 't';
		}
		else if (ch < 0x20 || ch == 0x7f) {
			memcpy(line + *n, "\\u00", 4);
			line[*n + 4] = hex[ch >> 4];
			line[*n + 5] = hex[ch & 15];
			*n += 6;
		}
		else {
			line[(*n)++] = (char)ch;
		}
	}
}

static void append(char *line, size_t size, size_t *n, const char *s)
{
	size_t len = strlen(s);

	if (*n + 1 >= size)
		return;
	if (len > size - *n - 1)
		len = size - *n - 1;
	memcpy(line + *n, s, len);
	*n += len;
}

/* JSON: one object a line. msg is escaped as UTF-8 text passes (bytes >= 0x80 as they
 * are: cccd logs what it was given, and the numbers and ids it logs are ASCII). */
static size_t json_line(char *line, size_t size, const char *ts, enum log_level level,
			const char *module, const char *msg, const char *sid, const char *rid)
{
	size_t n = 0;

	append(line, size, &n, "{\"ts\":\"");
	append(line, size, &n, ts);
	append(line, size, &n, "\",\"level\":\"");
	append(line, size, &n, level_names[level]);
	append(line, size, &n, "\",\"module\":\"");
	json_escape(line, size, &n, module);
	append(line, size, &n, "\",\"msg\":\"");
	json_escape(line, size - 96, &n, msg); /* room for the ids and the end */
	append(line, size, &n, "\"");
	if (sid[0]) {
		append(line, size, &n, ",\"session_id\":\"");
		append(line, size, &n, sid);
		append(line, size, &n, "\"");
	}
	if (rid[0]) {
		append(line, size, &n, ",\"request_id\":\"");
		append(line, size, &n, rid);
		append(line, size, &n, "\"");
	}
	append(line, size, &n, "}");
	return n;
}

/* Text: "ts LEVEL module: msg", then "session=" / "request=" for an id the thread is
 * working on that the message does not already name — not after a multi-line message (a
 * SIP message in the debug log), whose last line is the message's, not the log's. */
static size_t text_line(char *line, size_t size, const char *ts, enum log_level level,
			const char *module, const char *msg, const char *sid, const char *rid)
{
	int n = snprintf(line, size, "%s %-5s %s: %s", ts, level_names[level], module, msg);
	size_t len = n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;

	if (strchr(msg, '\n'))
		return len;

	if (sid[0] && !strstr(msg, sid)) {
		append(line, size, &len, " session=");
		append(line, size, &len, sid);
	}
	if (rid[0] && !strstr(msg, rid)) {
		append(line, size, &len, " request=");
		append(line, size, &len, rid);
	}
	return len;
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[LINE_MAX_BYTES + 256], msg[LINE_MAX_BYTES], ts[64], sid[SID_LEN + 1];
	struct timespec tsp;
	struct tm tm;
	va_list ap;
	size_t n;

	if (!log_enabled(level))
		return;

	clock_gettime(CLOCK_REALTIME, &tsp);
	gmtime_r(&tsp.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 tsp.tv_nsec / 1000000);
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	if (!leading_session(msg, sid))
		memcpy(sid, ctx_session, sizeof(sid));

	if (format == LOG_FORMAT_JSON)
		n = json_line(line, sizeof(line) - 1, ts, level, module, msg, sid, ctx_request);
	else
		n = text_line(line, sizeof(line) - 1, ts, level, module, msg, sid, ctx_request);
	line[n++] = '\n';

	/* One write(2) keeps lines from different threads whole. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
