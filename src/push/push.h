/* push: TCCC data push — delivers the durable outbox to each instance's push URL.
 *
 * The store's outbox holds every push (written in the transaction of the state change it
 * reports); this module reads it on its own thread with libcurl multi and POSTs each row
 * to the instance's URL with `?action=...` appended, `X-TCCC-PUSH-UUID` (the row's id,
 * the same on every retry and replay) and the instance's authentication (none, HTTP
 * Basic, OAuth2 client credentials). A row is delivered when the reply is HTTP 2xx with a
 * JSON body whose ErrCode is 0; otherwise it is retried on the instance's schedule and
 * then marked dead (kept for `ccc push resend`). Per session rows go out one at a time in
 * creation order; sessions go in parallel. Instances share the requests in flight (none
 * takes more than its share while others have work), and a failing receiver gets one
 * request at a time, after a growing back-off. Nothing here runs on the control loop.
 *
 * Per-instance settings live in the database (push_settings_put, `ccc push config`);
 * their secrets are sealed under the tenant master key and never logged. */
#ifndef CCCD_PUSH_H
#define CCCD_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

struct conf;
struct conf_err;
struct push;
struct tenant;

enum { PUSH_MAX_RETRIES = STORE_PUSH_MAX_RETRIES };

/* A retry schedule: the delay before each retry, in ms (n = 0: no retry). */
struct push_schedule {
	uint32_t ms[PUSH_MAX_RETRIES];
	unsigned n;
};

/* Rewrites a row's body just before each attempt: 0 and a new string in *outp (free()),
 * or 0 and *outp NULL to send the body as stored; an error fails that attempt (retried as
 * any failure). Runs on the push thread. cccd uses it for recording links, which would
 * expire if they were made when the row was stored. */
typedef int (push_body_h)(const struct store_outbox_row *row, char **outp, void *arg);

/* The daemon's [push] section. */
struct push_conf {
	bool enabled;                 /* run the delivery thread */
	unsigned concurrency;         /* requests in flight at most */
	uint32_t poll_ms;             /* look at the outbox at least this often */
	uint32_t timeout_ms;          /* per request, unless the instance sets one */
	struct push_schedule retry;   /* unless the instance sets one */
	struct push_schedule event_retry;  /* for action "event" */
	unsigned jitter_pct;          /* each retry delay ± this percentage, at random */
	uint32_t retention_days;      /* delivered and dead rows are deleted after this */
	uint32_t stop_timeout_ms;     /* at stop, in-flight requests get this long to finish */
	uint32_t settings_cache_ms;   /* an instance's settings are re-read after this */
	push_body_h *body_h;          /* set by the daemon, not the config file; NULL = none */
	void *body_arg;
};

/* Defaults for every key (what an absent [push] section gives). */
void push_conf_default(struct push_conf *pc);
int push_conf_read(const struct conf *cf, struct push_conf *pc, struct conf_err *err);

/* Starts the delivery thread (none when !pc->enabled; the object then does nothing).
 * st and t are not owned and must outlive the push. Rows leased by a previous process are
 * released and pending rows picked up at once. mem_deref stops it: no new request starts,
 * requests in flight get stop_timeout_ms, the rest stay pending for the next start. */
int push_alloc(struct push **pp, struct store *st, struct tenant *t,
	       const struct push_conf *pc);

/* A reload's [push] section: applied by the push thread at its next round (retry
 * schedules, timeouts, concurrency, poll, retention...). ENOTSUP when `enabled` changed:
 * that needs a restart. Any thread; p keeps no reference to pc. */
int push_reconf(struct push *p, const struct push_conf *pc);

struct push_stats {
	uint64_t delivered;   /* rows delivered */
	uint64_t failures;    /* failed attempts (each retried or made dead) */
	uint64_t dead;        /* rows declared dead */
	uint64_t in_flight;   /* rows claimed and not finished */
};

void push_stats_get(const struct push *p, struct push_stats *out);

/* ---- per-instance settings (clear-text view) ------------------------------------ */

struct push_settings {
	uint64_t sdkappid;
	bool enabled;
	char url[1024];               /* http:// or https://, no user:password@ */
	enum store_push_auth auth;
	char user[256];               /* basic: user name; oauth2: client id */
	char secret[256];             /* basic: password; oauth2: client secret */
	char token_url[1024];         /* oauth2 */
	unsigned events;              /* STORE_PUSH_* */
	bool retry_set;               /* false: the daemon's schedule */
	struct push_schedule retry;
	bool event_retry_set;
	struct push_schedule event_retry;
	uint32_t timeout_ms;          /* 0: the daemon's */
};

/* Checks a whole settings record; EINVAL with the reason in why. */
int push_settings_check(const struct push_settings *ps, char *why, size_t whysz);
/* Seals the secret and stores the settings. ENOENT: no such instance. Blocking. */
int push_settings_put(struct tenant *t, const struct push_settings *ps);
/* ENOENT: the instance has no push settings; EIO: its secret does not open with this
 * master key. */
int push_settings_get(struct tenant *t, uint64_t sdkappid, struct push_settings *out);

/* "cdr,record,voicemail,event" (any subset, any order) → STORE_PUSH_* bits. */
int push_events_parse(const char *list, unsigned *eventsp);
/* The bits as that list ("" for none). */
void push_events_format(unsigned events, char *buf, size_t sz);

/* "10s,60s,300s": delays with unit ms, s or m (a bare number is seconds), each at most
 * one day; "" or "none": no retry. */
int push_schedule_parse(const char *text, struct push_schedule *sched);
void push_schedule_format(const struct push_schedule *sched, char *buf, size_t sz);

/* ---- the wire rules (pure functions) --------------------------------------------- */

/* url + the query of an action ("action=cdr&version=1", ...), joined with '?' or, when
 * url has a query already, '&'. EINVAL: unknown action; ENOSPC: does not fit. */
int push_url_join(const char *url, const char *action, char *out, size_t sz);

/* Delivered? HTTP 2xx and a JSON object with ErrCode 0 (a number, or a string holding
 * one). When not, why gets a short reason for the row's last_error. */
bool push_reply_ok(long status, const char *body, size_t len, char *why, size_t whysz);

/* base_ms ± jitter_pct %, picked by rnd (uniform over 32 bits). */
uint32_t push_retry_delay_ms(uint32_t base_ms, unsigned jitter_pct, uint32_t rnd);

/* The back-off of a failing receiver (docs/push.md): it starts after PUSH_BACKOFF_AFTER
 * failures in a row; before its round-th probe (round >= 1) the instance waits 1 s, 2 s,
 * 4 s ... doubling up to 5 min, each ± jitter_pct % picked by rnd. */
enum {
	PUSH_BACKOFF_AFTER = 3,
	PUSH_BACKOFF_FIRST_MS = 1000,
	PUSH_BACKOFF_MAX_MS = 5 * 60 * 1000,
};
uint32_t push_backoff_ms(unsigned round, unsigned jitter_pct, uint32_t rnd);

/* Whether an attempt says the receiver is failing (it backs off), rather than refusing
 * that one push: no HTTP answer at all (connection refused, reset, timeout), 429 or 5xx. */
bool push_receiver_failing(bool answered, long status);

/* An OAuth2 token response (RFC 6749 §5.1): access_token, token_type Bearer (or absent),
 * expires_in (*expires_sp: seconds, 0 when absent). EPROTO with why when unusable. */
int push_token_parse(const char *body, size_t len, char *token, size_t tokensz,
		     int64_t *expires_sp, char *why, size_t whysz);

/* The receiver's de-duplication key across operator replays, sent as X-CCCD-PUSH-KEY:
 * "SessionId:action", plus ":RecordId" when the body has one, plus ":Event:Timestamp"
 * for events. */
void push_dedupe_key(const char *session_id, const char *action, const char *body,
		     char *out, size_t sz);

#endif
