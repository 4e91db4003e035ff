/* console: the web console's own rules, apart from HTTP — console users' passwords
 * (Argon2id), the random tokens of sessions, CSRF and one-time links, the roles and what
 * each may run, and the files of the console's pages built into the binary. The HTTP side
 * (sign-in, cookies, headers, running actions for a session) is src/api/console.c;
 * docs/console.md describes both. */
#ifndef CCCD_CONSOLE_H
#define CCCD_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- passwords (password.c) --------------------------------------------------------
 * Argon2id (libargon2) with OWASP's parameters: 19 MiB, 2 passes, 1 lane — Debian's build
 * took 0.3 s of a core per hash on the 2-core test machine under load. Blocking and memory-hungry, so never on the control loop: the API threads run
 * it, at most CONSOLE_HASH_PARALLEL at once (the others wait their turn), so that a burst
 * of sign-ins costs 2 cores and 38 MiB at most, whatever the thread pool's size. */
enum {
	CONSOLE_PASSWORD_MIN = 8,
	CONSOLE_PASSWORD_MAX = 128,
	CONSOLE_HASH_MAX = 128,      /* the PHC text ("$argon2id$v=19$m=...") fits */
	CONSOLE_HASH_PARALLEL = 2,
};

/* The PHC text of a new salted hash of pw into out (CONSOLE_HASH_MAX). EINVAL for a
 * password outside CONSOLE_PASSWORD_MIN..MAX bytes. */
int console_password_hash(const char *pw, char *out, size_t sz);

/* 0 when pw matches the PHC text; EACCES when it does not, or when hash is "" (a user
 * without a password); EINVAL for a hash that is not Argon2id text. Takes as long as a
 * hash either way. */
int console_password_check(const char *hash, const char *pw);

/* ---- failed sign-ins (limit.c) -------------------------------------------------------
 * Counted per key in a fixed table, per node: after `max` failures within `window_s`
 * seconds of the first, the key waits for the rest of that window. Any thread. */
struct console_limit;
int console_limit_alloc(struct console_limit **lp, uint32_t max, uint32_t window_s);
/* Seconds until key may try again; 0 when it may now. */
uint32_t console_limit_wait(struct console_limit *l, const char *key, int64_t now_s);
void console_limit_fail(struct console_limit *l, const char *key, int64_t now_s);
/* Forgets key's failures (a success). */
void console_limit_clear(struct console_limit *l, const char *key);

/* ---- tokens (token.c) ---------------------------------------------------------------
 * A session, CSRF or link token is 32 random bytes as 64 lower-case hex characters; the
 * store keeps the SHA-256 of session and link tokens only, so that a copy of the database
 * signs nobody in. */
enum { CONSOLE_TOKEN_LEN = 64 };

int console_token_new(char out[CONSOLE_TOKEN_LEN + 1]);
/* SHA-256 of the token, hex: what the store keys on. */
void console_token_hash(const char *token, char out[CONSOLE_TOKEN_LEN + 1]);
/* True when s has the token's shape (64 lower-case hex): anything else is refused before
 * the store is asked. */
bool console_token_ok(const char *s);
/* Compares a CSRF header with the session's token in constant time; NULL or "" never
 * matches. */
bool console_csrf_ok(const char *sent, const char *expected);
/* The value of cookie `name` in a Cookie header into out; ENOENT when absent, EINVAL when
 * too long for out. */
int console_cookie_get(const char *header, const char *name, char *out, size_t sz);

/* ---- users and roles (role.c) -------------------------------------------------------- */
enum console_role {
	CONSOLE_VIEWER = 1,        /* reads: Describe* actions */
	CONSOLE_SUPERVISOR,        /* + HangUpCall */
	CONSOLE_ADMINISTRATOR,     /* every action of its tenant (never an operator's) */
};

/* "administrator", "supervisor", "viewer" → the role; EINVAL otherwise. */
int console_role_parse(const char *s, enum console_role *rp);
const char *console_role_name(enum console_role r);
/* Whether the role may run the action (by its name). */
bool console_role_allows(enum console_role r, const char *action);
/* Whether the action changes something (what is written to the audit log): every action
 * but Describe*. */
bool console_action_changes(const char *action);
/* A user name: 1 to 64 of [A-Za-z0-9._@-]. */
bool console_user_name_ok(const char *s);

/* ---- the pages (assets, generated at build time from console/) ----------------------- */
struct console_asset {
	const char *path;          /* "/console/index.html" */
	const char *type;          /* its Content-Type */
	const unsigned char *data;
	size_t len;
};

/* The file served at path ("/console/" is index.html), or NULL. */
const struct console_asset *console_asset_find(const char *path);

#endif
