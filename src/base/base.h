/* base: the small plumbing every module uses — logging, random ids, clocks, descriptors. */
#ifndef CCCD_BASE_H
#define CCCD_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Logging: one line per call on stderr, "2026-11-25T10:00:00.123Z LEVEL module: text", or
 * with [log] format = json one object per line: {"ts","level","module","msg"} and
 * "session_id" / "request_id" when the line is about one. Thread-safe (one write(2) per
 * line). Never logs secrets: callers pass none.
 *
 * Which session or request a line is about: a line that starts with a SessionId (the
 * convention of every module: "<id>: what happened") names it; otherwise the thread's
 * context does — the API threads set the RequestId for the request they handle, the
 * control loop the SessionId of the session whose event it is delivering — so lines
 * written deep inside (the IVR interpreter, the store) carry it without being passed it.
 * In text the context's ids are appended (" session=…", " request=…") unless the text
 * already has them. */
enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };
enum { LOG_SESSION_ID_SIZE = 33, LOG_REQUEST_ID_SIZE = 37 };

void log_set_level(enum log_level level);
void log_set_format(enum log_format f);
/* Sets the calling thread's session / request (NULL or "" clears it); prev, when not
 * NULL, gets the one it replaces, to be set back when the inner work is done. */
void log_context_session(const char *session_id, char prev[LOG_SESSION_ID_SIZE]);
void log_context_request(const char *request_id, char prev[LOG_REQUEST_ID_SIZE]);
int  log_level_parse(const char *name, enum log_level *levelp);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_msg(LOG_INFO,  mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_msg(LOG_WARN,  mod, __VA_ARGS__)
#define log_error(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)

/* Invariants (assert.c), in the manner of Redis's serverAssert: a broken invariant logs
 * what was promised (the text given), the expression, file, line and function, then
 * aborts — the process stops rather than go on corrupting state. Always on, in release
 * builds too; the check is one predicted branch. Assert what the code relies on (a session
 * finishes once, a stream is on one worker), not every argument. */
#define BASE_ASSERT(cond, what) \
	(__builtin_expect(!!(cond), 1) ? (void)0 : \
	 base_assert_fail(what, #cond, __FILE__, __LINE__, __func__))

void base_assert_fail(const char *what, const char *cond, const char *file, int line,
		      const char *func) __attribute__((noreturn, cold));

/* Random ids from the kernel's cryptographic source (getrandom). Each returns 0 or errno. */
int ids_random(void *buf, size_t len);
int ids_session(char out[33]);        /* 32 lower-case hex */
int ids_uuid(char out[37]);           /* UUID v4, lower-case 8-4-4-4-12 */
int ids_token(char *out, size_t len); /* len-1 chars of [A-Za-z0-9], NUL-terminated */

/* Clocks. */
int64_t clock_unix_s(void);   /* wall clock, Unix seconds */
int64_t clock_unix_ms(void);  /* wall clock, Unix milliseconds */
uint64_t clock_mono_ms(void); /* monotonic, for timeouts and rates */
uint64_t clock_mono_us(void);

/* Toll-fraud refusals (refusal.c): one counter per reason, process-wide, counted on any
 * thread (atomics) and read as totals since start — by the refusal log lines now, by a
 * metrics exporter later. refusal_note counts one and logs it (at most one line a second
 * per reason, with the total), `detail` naming what was refused and why. */
enum refusal_reason {
	REFUSAL_INBOUND_SOURCE = 0,  /* inbound INVITE from no trunk's source address: 403 */
	REFUSAL_INBOUND_AUTH,        /* inbound INVITE with wrong digest credentials: 403 */
	REFUSAL_DESTINATION,         /* transfer / caller-built number outside the allow-list */
	REFUSAL_CHANNELS,            /* a tenant's concurrent outbound channel cap */
	REFUSAL_MINUTES,             /* a tenant's daily minute cap */
	REFUSAL_N
};

const char *refusal_name(enum refusal_reason r);   /* "inbound_source", ... */
void refusal_note(enum refusal_reason r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t refusal_total(enum refusal_reason r);

/* Draining (drain.c): a node being drained takes no new sessions — CreateIVRSession is
 * refused (ResourceUnavailable), inbound INVITEs are answered 503 with Retry-After — and
 * /readyz fails, while the calls in progress go on to their end. Set by the CccdDrainNode
 * action and by SIGUSR1 (on) / SIGUSR2 (off); read on any thread. drain_set returns the
 * previous state; it is async-signal-safe (one lock-free atomic). */
bool drain_set(bool on);
bool drain_active(void);

/* File descriptors: raises the soft RLIMIT_NOFILE to `need` (at most the hard limit) and
 * sizes libre's main-loop table to match, so a descriptor numbered up to the limit can be
 * polled. Call after libre_init and before anything listens on the loop. *limitp gets the
 * descriptors now available (may be below need: the hard limit). Returns 0 or errno. */
int fds_reserve(unsigned need, unsigned *limitp);

#endif
