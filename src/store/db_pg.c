/* db_pg: db.h on PostgreSQL through libpq.
 *
 * Statements. Every statement the store runs is a string literal, so its address names it:
 * the connection keeps a small open-addressed cache from that address to a server-side
 * prepared statement (PQprepare once, under a generated name), with its `?` placeholders
 * rewritten to $1..$n and `?NNN` to $NNN (outside string literals, quoted identifiers and
 * comments). The parameter types are left to the server, which infers them from where
 * each one stands (a column, a comparison), as SQLite's loose typing lets the store's SQL
 * assume.
 * Parameters go as text — an int64 is formatted into the statement's own buffer, so the
 * caller's value need not outlive the bind — except blobs, which go binary (no escaping,
 * zero bytes kept). Results come back as text; a BYTEA column is decoded from its hex
 * form when read as a blob, a boolean reads as 0/1. db_step runs the statement on its
 * first call and then walks the rows of the one PGresult: the store's reads are small
 * (a page of records at most), so the whole result in memory costs less than a cursor's
 * round trips. A run that ended runs again at the next db_step, as SQLite's does.
 *
 * The writer's SAVEPOINT / RELEASE around each job are held back and sent with the next
 * statement (defer_ok): a pipeline instead of two more round trips per job. Statements a
 * caller sends (db_send) wait in the same way, each with its parameters: the next
 * statement that must answer takes them all in one pipeline, one sync, one round trip,
 * and hands each its own result (or error) for its db_step. The admission counts all
 * its numbers so (session.c): one round trip where there was one per count.
 *
 * Connections. The DSN is parsed here (PQconninfoParse) and handed to PQconnectdbParams
 * as keyword/value pairs, cccd's settings added: application_name=cccd unless the DSN
 * names one; in `options`, synchronous_commit=on (a commit returns once it is durable, as
 * SQLite's synchronous=FULL), lock_timeout = busy_timeout_ms (waiting for another
 * session's lock fails as EBUSY, like SQLite's busy timeout) and statement_timeout = twice
 * that (a statement may first wait for a lock, then run). A reader's transactions are
 * read-only at REPEATABLE READ, so a snapshot's BEGIN (store_snapshot_begin) reads one
 * state of the database for the whole request: set by one statement once connected, not
 * in `options`, because a session that starts with default_transaction_read_only on is
 * what libpq's target_session_attrs=read-write refuses — a DSN naming a primary and its
 * standby (docs/cluster.md) would then find no server for a reader. The password, when
 * [store] password_file names one, is read at open and passed as the `password` keyword;
 * it is never logged, and error texts are scrubbed of it in case libpq quotes the DSN.
 *
 * A lost connection (server restart, network, pg_terminate_backend) fails the statement
 * that met it with EIO and is re-established on the next use, its prepared statements
 * re-prepared as they are used again. One case is retried at once instead: a statement
 * run outside a transaction that met a connection already dead before it started, when
 * repeating it cannot do anything twice — any statement of a read-only connection, or a
 * BEGIN — so that a restart of the server costs the writer and the readers no error on
 * their next request. A connection lost inside a transaction is not made again behind
 * its caller's back: every statement fails until the caller's ROLLBACK (or a BEGIN), or
 * the rest of its transaction would run in autocommit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <re.h>
#include "base/base.h"
#include "store/store.h"
#include "store/db_ops.h"
#include "store/db_pg.h"

enum {
	PG_STMT_CACHE = 256,
	PG_BUSY_TIMEOUT_MS = 10000, /* busy_timeout_ms 0 (see store.h) */
	PG_BOOLOID = 16,
	PG_BYTEAOID = 17,
	PG_PASSWORD_MAX = 1024,
	PG_ERR_MAX = 512,
	PG_DEFER_MAX = 8,           /* savepoint statements held back for the next round trip */
	PG_DEFER_LEN = 64,
	PG_SEND_MAX = 16,           /* statements sent (db_send) and not yet run */
};

struct pg_stmt {
	struct db_stmt base;      /* first: db.c's ops */
	struct pg_conn *c;        /* its connection (whose cache owns it, when cached) */
	bool cached;              /* db_stmt's; else db_prepare's, run unnamed */
	const char *sql;          /* the literal, the cache key */
	char *text;               /* sql with $n placeholders */
	char name[16];            /* server-side prepared statement */
	unsigned gen;             /* connection generation it is prepared in; 0 = never */
	int nparams;
	const char **values;      /* per parameter: NULL = SQL NULL */
	int *lengths;
	int *formats;             /* 0 text, 1 binary */
	char (*ints)[24];         /* int64 parameters' text */
	char **copies;            /* text parameters given with a length, NUL-terminated */
	PGresult *res;            /* the result being walked */
	int row;                  /* current row; -1 before the first */
	bool ran;
	bool queued;              /* sent (db_send), waiting in its connection's pipeline */
	int err;                  /* a sent statement's error, for its db_step */
	uint8_t *blob;            /* a BYTEA column of the current row, decoded */
	size_t blob_size;
};

struct pg_conn {
	struct db_conn base;      /* first: db.c's ops */
	PGconn *pg;
	bool readonly;
	const char **keys;        /* PQconnectdbParams's arrays, NULL-terminated */
	const char **vals;
	size_t nkeys;
	char *password;           /* from password_file; wiped at close */
	unsigned gen;             /* bumped by every (re)connect */
	bool lost_in_txn;         /* the connection went inside a transaction, and the caller
				     has not ended it yet (ROLLBACK) */
	unsigned failed;          /* reconnections failed in a row (the first one logged) */
	/* SAVEPOINT / RELEASE held back, sent with the next statement (see pg_exec) */
	char deferred[PG_DEFER_MAX][PG_DEFER_LEN];
	unsigned n_deferred;
	/* statements sent (db_send), run with the next statement that must answer */
	struct pg_stmt *sent[PG_SEND_MAX];
	unsigned n_sent;
	uint64_t round_trips;     /* db_round_trips */
	unsigned next_name;
	uint64_t changes;
	struct pg_stmt *cache[PG_STMT_CACHE];
	char err[PG_ERR_MAX];
};

static const struct db_ops pg_ops;
static int sent_flush(struct pg_conn *c);

int db_pg_errno(const char *st)
{
	if (!st || strlen(st) != 5)
		return EIO;
	if (!strcmp(st, "40001") || !strcmp(st, "40P01") || /* serialization, deadlock */
	    !strcmp(st, "55P03") ||                          /* lock_timeout */
	    !strcmp(st, "57014") ||                          /* statement_timeout */
	    !strcmp(st, "53300"))                            /* too many connections */
		return EBUSY;
	if (!strcmp(st, "53100"))
		return ENOSPC;
	if (!strcmp(st, "53200"))
		return ENOMEM;
	if (!strcmp(st, "42501") || !strcmp(st, "25006") || !strncmp(st, "28", 2))
		return EACCES;
	if (!strncmp(st, "23", 2))
		return EEXIST;
	if (!strncmp(st, "08", 2) || !strncmp(st, "57", 2) || !strncmp(st, "58", 2) ||
	    !strncmp(st, "XX", 2) || !strncmp(st, "53", 2))
		return EIO;
	/* Syntax, undefined objects, bad data, a statement in an aborted transaction, an
	 * unknown savepoint: the store's own mistake. */
	if (!strncmp(st, "42", 2) || !strncmp(st, "22", 2) || !strncmp(st, "25", 2) ||
	    !strncmp(st, "0A", 2) || !strncmp(st, "3B", 2) || !strncmp(st, "2B", 2) ||
	    !strncmp(st, "21", 2))
		return EINVAL;
	return EIO;
}

/* Copies msg's first line into c->err, with the password (if any) masked: libpq quotes
 * parts of a malformed DSN in its errors. */
static void conn_err_set(struct pg_conn *c, const char *msg)
{
	size_t n, plen = c->password ? strlen(c->password) : 0;
	char *p;

	/* The first line: libpq's further lines (the statement quoted, a caret) are noise
	 * in a log. */
	snprintf(c->err, sizeof(c->err), "%.*s", msg ? (int)strcspn(msg, "\n") : 0,
		 msg ? msg : "");
	n = strlen(c->err);
	while (n && (c->err[n - 1] == '\n' || c->err[n - 1] == ' '))
		c->err[--n] = '\0';
	if (!plen)
		return;
	while ((p = strstr(c->err, c->password)) != NULL)
		memset(p, '*', plen);
}

/* Takes s off its connection's sent statements (db_send), if it waits there. */
static void sent_drop(struct pg_stmt *s)
{
	struct pg_conn *c = s->c;

	if (!s->queued)
		return;
	s->queued = false;
	for (unsigned i = 0; i < c->n_sent; i++) {
		if (c->sent[i] != s)
			continue;
		memmove(&c->sent[i], &c->sent[i + 1], (c->n_sent - i - 1) * sizeof(c->sent[0]));
		c->n_sent--;
		break;
	}
}

/* Every sent statement ends with err, unsent: the connection went. */
static void sent_fail(struct pg_conn *c, int err)
{
	for (unsigned i = 0; i < c->n_sent; i++) {
		c->sent[i]->queued = false;
		c->sent[i]->err = err;
	}
	c->n_sent = 0;
}

static void stmt_clear_result(struct pg_stmt *s)
{
	sent_drop(s);
	if (s->res)
		PQclear(s->res);
	s->res = NULL;
	s->row = -1;
	s->ran = false;
	s->err = 0;
}

static void stmt_destructor(void *arg)
{
	struct pg_stmt *s = arg;

	stmt_clear_result(s);
	mem_deref(s->text);
	mem_deref(s->values);
	mem_deref(s->lengths);
	mem_deref(s->formats);
	mem_deref(s->ints);
	for (int i = 0; s->copies && i < s->nparams; i++)
		mem_deref(s->copies[i]);
	mem_deref(s->copies);
	mem_deref(s->blob);
}

static void conn_destructor(void *arg)
{
	struct pg_conn *c = arg;

	for (size_t i = 0; i < PG_STMT_CACHE; i++)
		mem_deref(c->cache[i]);
	if (c->pg)
		PQfinish(c->pg);
	for (size_t i = 0; i < c->nkeys; i++) {
		mem_deref((void *)c->keys[i]);
		mem_deref((void *)c->vals[i]);
	}
	mem_deref(c->keys);
	mem_deref(c->vals);
	if (c->password) {
		explicit_bzero(c->password, strlen(c->password));
		mem_deref(c->password);
	}
}

/* Sets keyword k to v (both copied), replacing an earlier value. */
static int conn_param_set(struct pg_conn *c, const char *k, const char *v)
{
	char *kk = NULL, *vv = NULL;
	size_t i;

	for (i = 0; i < c->nkeys; i++) {
		if (!strcmp(c->keys[i], k))
			break;
	}
	if (str_dup(&vv, v))
		return ENOMEM;
	if (i < c->nkeys) {
		mem_deref((void *)c->vals[i]);
		c->vals[i] = vv;
		return 0;
	}
	if (str_dup(&kk, k)) {
		mem_deref(vv);
		return ENOMEM;
	}
	c->keys[c->nkeys] = kk;
	c->vals[c->nkeys] = vv;
	c->nkeys++;
	return 0;
}

static const char *conn_param(const struct pg_conn *c, const char *k)
{
	for (size_t i = 0; i < c->nkeys; i++) {
		if (!strcmp(c->keys[i], k))
			return c->vals[i];
	}
	return NULL;
}

/* The password file's first line. */
static int password_read(struct pg_conn *c, const char *path)
{
	char buf[PG_PASSWORD_MAX + 2];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0) {
		err = errno;
		log_error("store", "cannot read [store] password_file %s: %s", path, strerror(err));
		return err;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	err = n < 0 ? errno : 0;
	close(fd);
	if (n < 0) {
		log_error("store", "cannot read [store] password_file %s: %s", path, strerror(err));
		return err;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!*buf || n > PG_PASSWORD_MAX) {
		log_error("store", "[store] password_file %s: %s", path,
			  *buf ? "longer than 1024 bytes" : "empty");
		err = EINVAL;
	}
	else if (str_dup(&c->password, buf)) {
		err = ENOMEM;
	}
	explicit_bzero(buf, sizeof(buf));
	return err;
}

/* The connection parameters: the DSN's, then cccd's settings. */
static int conn_params(struct pg_conn *c, const struct store_conf *sc)
{
	unsigned busy = sc->busy_timeout_ms ? sc->busy_timeout_ms : PG_BUSY_TIMEOUT_MS;
	PQconninfoOption *opts, *o;
	char *perr = NULL, options[1024], tmo[16];
	size_t n = 0;
	int err = 0;

	/* The password first: an error quoting the DSN is scrubbed of it. */
	if (*sc->password_file) {
		err = password_read(c, sc->password_file);
		if (err)
			return err;
	}
	opts = PQconninfoParse(sc->dsn, &perr);
	if (!opts) {
		conn_err_set(c, perr ? perr : "out of memory");
		log_error("store", "[store] dsn: %s", c->err);
		PQfreemem(perr);
		return perr ? EINVAL : ENOMEM;
	}
	for (o = opts; o->keyword; o++)
		n++;
	/* The DSN's keywords and ours (application_name, connect_timeout, options, password). */
	c->keys = mem_zalloc((n + 5) * sizeof(*c->keys), NULL);
	c->vals = mem_zalloc((n + 5) * sizeof(*c->vals), NULL);
	if (!c->keys || !c->vals) {
		err = ENOMEM;
		goto out;
	}
	for (o = opts; o->keyword && !err; o++) {
		if (o->val && *o->val)
			err = conn_param_set(c, o->keyword, o->val);
	}
	if (!err && !conn_param(c, "application_name"))
		err = conn_param_set(c, "application_name", "cccd");
	if (!err && !conn_param(c, "connect_timeout")) {
		snprintf(tmo, sizeof(tmo), "%u", busy / 1000 > 2 ? busy / 1000 : 2);
		err = conn_param_set(c, "connect_timeout", tmo);
	}
	if (!err) {
		const char *user = conn_param(c, "options");

		snprintf(options, sizeof(options),
			 "%s%s-c synchronous_commit=on -c lock_timeout=%u -c statement_timeout=%u",
			 user ? user : "", user ? " " : "", busy, 2 * busy);
		err = conn_param_set(c, "options", options);
	}
	if (!err && c->password)
		err = conn_param_set(c, "password", c->password);
out:
	PQconninfoFree(opts);
	return err;
}

/* Server notices ("does not exist, skipping") go to the debug log, not to stderr. */
static void conn_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("store", "postgresql: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* A failed connection's error, on one line: with several hosts in the DSN, libpq writes
 * one line per server it tried (refused, read-only, ...), each worth the log, joined by
 * "; ". Its hint lines (indented: "Is the server running...?") are left out. */
static void conn_err_connect(struct pg_conn *c)
{
	char msg[PG_ERR_MAX];
	const char *p = PQerrorMessage(c->pg);
	size_t o = 0, n;

	while (*p && o + 3 < sizeof(msg)) {
		n = strcspn(p, "\n");
		if (*p != '\t') {
			if (o)
				o += (size_t)snprintf(msg + o, sizeof(msg) - o, "; ");
			o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%.*s", (int)n, p);
		}
		p += n + (p[n] == '\n');
	}
	msg[o < sizeof(msg) ? o : sizeof(msg) - 1] = '\0';
	conn_err_set(c, msg);
}

/* (Re)connects c; 0 or EIO (EACCES when the server refused the credentials). A reader's
 * session is made read-only, REPEATABLE READ, here (see the top of this file). */
static int conn_connect(struct pg_conn *c)
{
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->gen++;
	c->changes = 0;
	c->n_deferred = 0;
	sent_fail(c, EIO);
	c->pg = PQconnectdbParams(c->keys, c->vals, 0);
	if (!c->pg) {
		conn_err_set(c, "out of memory");
		return ENOMEM;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		conn_err_connect(c);
		return strstr(c->err, "authentication failed") ? EACCES : EIO;
	}
	PQsetNoticeProcessor(c->pg, conn_notice, NULL);
	if (c->readonly) {
		PGresult *r = PQexec(c->pg, "SET SESSION CHARACTERISTICS AS TRANSACTION "
				     "READ ONLY, ISOLATION LEVEL REPEATABLE READ");
		int err = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : EIO;

		if (err)
			conn_err_set(c, PQerrorMessage(c->pg));
		PQclear(r);
		return err;
	}
	return 0;
}

static bool sql_is(const char *sql, const char *word)
{
	size_t n = strlen(word);

	while (*sql == ' ' || *sql == '\n' || *sql == '\t')
		sql++;
	return !strncasecmp(sql, word, n) && (!sql[n] || sql[n] == ' ' || sql[n] == ';');
}

static bool sql_is_begin(const char *sql)
{
	return sql_is(sql, "BEGIN") || sql_is(sql, "START TRANSACTION");
}

/* A whole-transaction ROLLBACK (not ROLLBACK TO a savepoint). */
static bool sql_is_rollback(const char *sql)
{
	while (*sql == ' ' || *sql == '\n' || *sql == '\t')
		sql++;
	return !strncasecmp(sql, "ROLLBACK", 8) && strspn(sql + 8, " ;") == strlen(sql + 8);
}

/* Before running sql: a connection lost earlier is made again — but not under a
 * transaction the caller still believes open: its statements would run in autocommit,
 * each committed alone. Until the caller ends it (ROLLBACK) or begins anew, they fail. */
static int conn_ensure(struct pg_conn *c, const char *sql)
{
	int err;

	if (c->lost_in_txn) {
		if (!sql_is_begin(sql)) {
			conn_err_set(c, "the connection to postgresql was lost inside a "
				     "transaction");
			return EIO;
		}
		c->lost_in_txn = false;
	}
	if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
		return 0;
	err = conn_connect(c);
	if (err && !c->failed++)
		log_error("store", "postgresql: reconnect failed (retried at each use, logged "
			  "again once it works): %s", c->err);
	if (!err) {
		log_info("store", "postgresql: reconnected to database %s on %s:%s after %u "
			 "failed attempts", PQdb(c->pg), PQhost(c->pg), PQport(c->pg), c->failed);
		c->failed = 0;
	}
	return err;
}

int db_pg_open(struct db_conn **cp, const struct store_conf *sc, bool readonly)
{
	struct pg_conn *c = mem_zalloc(sizeof(*c), conn_destructor);
	int err;

	if (!c)
		return ENOMEM;
	c->base.ops = &pg_ops;
	c->readonly = readonly;
	err = conn_params(c, sc);
	if (err)
		goto out;
	err = conn_connect(c);
	if (err) {
		log_error("store", "cannot connect to postgresql: %s", c->err);
		goto out;
	}
	if (readonly)
		log_debug("store", "postgresql: reader connected to %s", PQdb(c->pg));
	else
		log_info("store", "postgresql: connected to database %s on %s (server %d)",
			 PQdb(c->pg), *PQhost(c->pg) ? PQhost(c->pg) : "the default socket",
			 PQserverVersion(c->pg));
out:
	if (err)
		mem_deref(c);
	else
		*cp = &c->base;
	return err;
}

/* sql with each `?` outside literals, quoted names and comments replaced by $n (and
 * SQLite's numbered ?NNN by $NNN); nparams is the highest number. */
static int stmt_rewrite(struct pg_stmt *s, const char *sql)
{
	size_t len = strlen(sql), o = 0;
	char quote = 0;
	int n = 0;
	char *t;

	for (const char *p = sql; *p; p++)
		n += *p == '?';
	t = mem_alloc(len + (size_t)n * 6 + 1, NULL);
	if (!t)
		return ENOMEM;
	n = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0; /* a doubled quote reopens at once: same result */
			t[o++] = *p;
		}
		else if (*p == '\'' || *p == '"') {
			quote = *p;
			t[o++] = *p;
		}
		else if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				t[o++] = *p++;
			if (!*p)
				break;
			t[o++] = *p;
		}
		else if (*p == '?' && p[1] >= '1' && p[1] <= '9') {
			/* ?NNN, SQLite's numbered parameter, is PostgreSQL's $NNN */
			int k = (int)strtol(p + 1, (char **)&p, 10);

			o += (size_t)sprintf(t + o, "$%d", k);
			n = k > n ? k : n;
			p--;
		}
		else if (*p == '?') {
			o += (size_t)sprintf(t + o, "$%d", ++n);
		}
		else {
			t[o++] = *p;
		}
	}
	t[o] = '\0';
	s->text = t;
	s->nparams = n;
	return 0;
}

/* A statement for sql: cached (sql a literal, its address the key; prepared under a name
 * of its own) or not (run unnamed: prepared and run in one round trip, nothing left on the
 * server; sql is the statement's own copy). */
static struct pg_stmt *stmt_new(struct pg_conn *c, const char *sql, bool cached)
{
	struct pg_stmt *s = mem_zalloc(sizeof(*s), stmt_destructor);
	size_t n;

	if (!s || stmt_rewrite(s, sql))
		goto nomem;
	s->base.ops = &pg_ops;
	s->c = c;
	s->cached = cached;
	s->sql = cached ? sql : s->text;
	s->row = -1;
	snprintf(s->name, sizeof(s->name), "cccd%u", c->next_name++);
	n = s->nparams ? (size_t)s->nparams : 1;
	s->values = mem_zalloc(n * sizeof(*s->values), NULL);
	s->lengths = mem_zalloc(n * sizeof(*s->lengths), NULL);
	s->formats = mem_zalloc(n * sizeof(*s->formats), NULL);
	s->ints = mem_zalloc(n * sizeof(*s->ints), NULL);
	s->copies = mem_zalloc(n * sizeof(*s->copies), NULL);
	if (!s->values || !s->lengths || !s->formats || !s->ints || !s->copies)
		goto nomem;
	return s;
nomem:
	mem_deref(s);
	conn_err_set(c, "out of memory");
	return NULL;
}

/* Prepares s on the current connection if it is not yet; 0 or an errno value. */
static int stmt_prepare(struct pg_stmt *s)
{
	struct pg_conn *c = s->c;
	PGresult *r;
	int err = 0;

	if (s->gen == c->gen)
		return 0;
	c->round_trips++;
	r = PQprepare(c->pg, s->name, s->text, s->nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		conn_err_set(c, PQresultErrorMessage(r) && *PQresultErrorMessage(r)
				? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
		err = PQstatus(c->pg) != CONNECTION_OK ? EIO
			: db_pg_errno(PQresultErrorField(r, PG_DIAG_SQLSTATE));
		if (err == EINVAL) /* the statement itself: a bug (the rest is the caller's) */
			log_error("store", "prepare failed: %s in: %s", c->err, s->sql);
	}
	else {
		s->gen = c->gen;
	}
	PQclear(r);
	return err;
}

static struct db_stmt *pg_stmt_get(struct db_conn *dc, const char *sql)
{
	struct pg_conn *c = (struct pg_conn *)dc;
	size_t slot = ((uintptr_t)sql >> 4) % PG_STMT_CACHE;
	struct pg_stmt *s = NULL;
	size_t k = slot;

	for (size_t i = 0; i < PG_STMT_CACHE; i++) {
		k = (slot + i) % PG_STMT_CACHE;
		if (!c->cache[k] || c->cache[k]->sql == sql)
			break;
	}
	if (c->cache[k] && c->cache[k]->sql == sql) {
		s = c->cache[k];
		if (s->queued) /* sent and never read: it still runs, in its place */
			(void)sent_flush(c);
		stmt_clear_result(s);
		for (int i = 0; i < s->nparams; i++) {
			s->values[i] = NULL;
			s->lengths[i] = 0;
			s->formats[i] = 0;
		}
	}
	else if (c->cache[k]) {
		log_error("store", "statement cache full");
		return NULL;
	}
	else {
		s = stmt_new(c, sql, true);
		if (!s)
			return NULL;
		c->cache[k] = s;
	}
	return &s->base; /* prepared by its first step, on the connection then current */
}

static struct db_stmt *pg_prepare(struct db_conn *dc, const char *sql)
{
	struct pg_stmt *s = stmt_new((struct pg_conn *)dc, sql, false);

	return s ? &s->base : NULL;
}

static void pg_reset(struct db_stmt *ds)
{
	stmt_clear_result((struct pg_stmt *)ds);
}

static bool param_ok(const struct pg_stmt *s, int i)
{
	if (i >= 1 && i <= s->nparams)
		return true;
	log_error("store", "parameter %d out of range (%d) in: %s", i, s->nparams, s->sql);
	return false;
}

static void pg_bind_int64(struct db_stmt *ds, int i, int64_t v)
{
	struct pg_stmt *s = (struct pg_stmt *)ds;
	if (!param_ok(s, i))
		return;
	snprintf(s->ints[i - 1], sizeof(s->ints[i - 1]), "%lld", (long long)v);
	s->values[i - 1] = s->ints[i - 1];
	s->lengths[i - 1] = 0;
	s->formats[i - 1] = 0;
}

/* Text goes as text, NUL-terminated: a value given with a length is copied first (the
 * bytes after it are not the caller's to read). */
static void pg_bind_text(struct db_stmt *ds, int i, const char *v, int len)
{
	struct pg_stmt *s = (struct pg_stmt *)ds;
	if (!param_ok(s, i))
		return;
	s->formats[i - 1] = 0;
	s->lengths[i - 1] = 0;
	s->values[i - 1] = v;
	if (v && len >= 0) {
		s->copies[i - 1] = mem_deref(s->copies[i - 1]);
		if (re_sdprintf(&s->copies[i - 1], "%b", v, (size_t)len)) {
			log_error("store", "out of memory binding parameter %d", i);
			s->values[i - 1] = NULL;
			return;
		}
		s->values[i - 1] = s->copies[i - 1];
	}
}

static void pg_bind_blob(struct db_stmt *ds, int i, const void *v, size_t len)
{
	struct pg_stmt *s = (struct pg_stmt *)ds;
	if (!param_ok(s, i))
		return;
	s->values[i - 1] = v ? v : "";
	s->lengths[i - 1] = (int)len;
	s->formats[i - 1] = 1;
}

static void pg_bind_null(struct db_stmt *ds, int i)
{
	struct pg_stmt *s = (struct pg_stmt *)ds;
	if (!param_ok(s, i))
		return;
	s->values[i - 1] = NULL;
	s->lengths[i - 1] = 0;
	s->formats[i - 1] = 0;
}

/* The outcome of a command result r on c (r is cleared unless kept): 0 or an errno. */
static int conn_result(struct pg_conn *c, PGresult *r, bool *rowsp)
{
	ExecStatusType st = PQresultStatus(r);

	*rowsp = false;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		const char *n = PQcmdTuples(r);

		c->changes = *n ? strtoull(n, NULL, 10) : 0;
		*rowsp = st == PGRES_TUPLES_OK;
		c->err[0] = '\0';
		return 0;
	}
	if (!r) {
		conn_err_set(c, PQerrorMessage(c->pg));
		return PQstatus(c->pg) != CONNECTION_OK ? EIO : ENOMEM;
	}
	conn_err_set(c, *PQresultErrorMessage(r) ? PQresultErrorMessage(r)
						 : PQerrorMessage(c->pg));
	if (PQstatus(c->pg) != CONNECTION_OK)
		return EIO;
	return db_pg_errno(PQresultErrorField(r, PG_DIAG_SQLSTATE));
}

/* After a statement failed with err: whether it may run again on a new connection (see
 * the top of this file); a connection lost inside a transaction is remembered. */
static bool conn_lost(struct pg_conn *c, bool was_idle, const char *sql, int err)
{
	if (err != EIO || PQstatus(c->pg) == CONNECTION_OK)
		return false;
	if (!was_idle) {
		c->lost_in_txn = true;
		c->n_deferred = 0;
		return false;
	}
	return c->readonly || sql_is_begin(sql);
}

/* Whether sql is a savepoint statement the connection may hold back: the writer opens
 * and releases a savepoint around every job of a batch (store.c), two round trips a job
 * that carry nothing the caller waits for. Held back, they go with the next statement:
 * in one pipeline before a prepared statement's run, or in one simple query before
 * another db_exec (RELEASE of a job and SAVEPOINT of the next, RELEASE and COMMIT). Their
 * errors are then reported by that statement, which the caller checks anyway. Only inside
 * a healthy transaction: anywhere else they run, and fail, at once. */
static bool defer_ok(const struct pg_conn *c, const char *sql)
{
	return (sql_is(sql, "SAVEPOINT") || sql_is(sql, "RELEASE")) && !strchr(sql, ';') &&
	       strlen(sql) < PG_DEFER_LEN && c->n_deferred < PG_DEFER_MAX && !c->lost_in_txn &&
	       c->pg && PQstatus(c->pg) == CONNECTION_OK &&
	       PQtransactionStatus(c->pg) == PQTRANS_INTRANS;
}

/* A reader's BEGIN (the snapshot of a request, store.c) is held back the same way: it goes
 * in one pipeline with the request's first read instead of a round trip of its own, and a
 * request that read nothing drops it with its ROLLBACK, unsent. While held it is the only
 * statement held, and the connection counts as inside a transaction (pg_in_txn). */
static bool begin_held(const struct pg_conn *c)
{
	return c->n_deferred == 1 && sql_is_begin(c->deferred[0]);
}

static bool begin_hold_ok(const struct pg_conn *c, const char *sql)
{
	return c->readonly && sql_is_begin(sql) && !strchr(sql, ';') &&
	       strlen(sql) < PG_DEFER_LEN && !c->n_deferred && !c->n_sent && !c->lost_in_txn &&
	       c->pg && PQstatus(c->pg) == CONNECTION_OK &&
	       PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

/* The held-back savepoint statements, sent now on their own. */
static int deferred_flush(struct pg_conn *c)
{
	char sql[PG_DEFER_MAX * (PG_DEFER_LEN + 1)];
	size_t o = 0;
	bool rows;
	PGresult *r;
	int err;

	for (unsigned i = 0; i < c->n_deferred; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s;", c->deferred[i]);
	c->n_deferred = 0;
	c->round_trips++;
	r = PQexec(c->pg, sql);
	err = conn_result(c, r, &rows);
	PQclear(r);
	if (err && PQstatus(c->pg) != CONNECTION_OK) {
		c->lost_in_txn = true;
		err = EIO;
	}
	return err;
}

/* A statement not yet prepared on this connection, when savepoints wait: they are sent
 * first, on their own (rare: once per statement and connection). */
static int stmt_prepare_pipelined(struct pg_stmt *s)
{
	int err;

	if (s->gen == s->c->gen)
		return 0;
	err = s->c->n_deferred ? deferred_flush(s->c) : 0;
	return err ? err : stmt_prepare(s);
}

/* Sends t's run into the pipeline; 0 when libpq took it. */
static int stmt_send(PGconn *pg, const struct pg_stmt *t)
{
	return t->cached ? PQsendQueryPrepared(pg, t->name, t->nparams, t->values, t->lengths,
					       t->formats, 0)
			 : PQsendQueryParams(pg, t->text, t->nparams, NULL, t->values,
					     t->lengths, t->formats, 0);
}

/* The held-back savepoint statements, the sent statements and then s (NULL: none) in one
 * pipeline: one round trip. Each statement gets its own result: s's outcome is returned
 * (with s->res holding its rows, *rowsp saying whether it has any), a sent statement's
 * is kept for its db_step (t->err, t->res); a statement behind one that failed is
 * aborted by the server and gets the first error. Without s, the first error of the
 * savepoints or of the connection is returned. */
static int pipeline_run(struct pg_conn *c, struct pg_stmt *s, bool *rowsp)
{
	struct pg_stmt *q[PG_SEND_MAX + 1];
	unsigned nd = c->n_deferred, nq = c->n_sent, idx = 0;
	PGconn *pg = c->pg;
	int err = 0, first = 0, sent;

	*rowsp = false;
	memcpy(q, c->sent, nq * sizeof(q[0]));
	for (unsigned i = 0; i < nq; i++)
		q[i]->queued = false;
	if (s)
		q[nq++] = s;
	c->n_deferred = 0;
	c->n_sent = 0;
	if (!PQenterPipelineMode(pg)) {
		conn_err_set(c, PQerrorMessage(pg));
		err = EIO;
		goto out;
	}
	sent = 1;
	for (unsigned i = 0; i < nd && sent; i++)
		sent = PQsendQueryParams(pg, c->deferred[i], 0, NULL, NULL, NULL, NULL, 0);
	for (unsigned i = 0; i < nq && sent; i++)
		sent = stmt_send(pg, q[i]);
	if (sent)
		sent = PQpipelineSync(pg);
	if (!sent) {
		conn_err_set(c, PQerrorMessage(pg));
		err = EIO;
	}
	else {
		c->round_trips++;
	}
	/* Each query's results end with a NULL; the sync's result ends the pipeline. */
	while (sent) {
		PGresult *r = PQgetResult(pg);
		ExecStatusType st;
		struct pg_stmt *t;
		bool rows;
		int e;

		if (!r) {
			if (PQstatus(pg) != CONNECTION_OK || ++idx > nd + nq)
				break;
			continue;
		}
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (idx < nd || idx >= nd + nq) {
			if (!first && st != PGRES_COMMAND_OK) {
				first = conn_result(c, r, &rows);
				err = first; /* a savepoint: everything after it is aborted */
			}
			PQclear(r);
			continue;
		}
		t = q[idx - nd];
		e = st == PGRES_PIPELINE_ABORTED ? (first ? first : EIO) : conn_result(c, r, &rows);
		if (!e && rows && !t->res) {
			t->res = r;
			if (t == s)
				*rowsp = true;
		}
		else {
			PQclear(r);
		}
		t->err = t->err ? t->err : e;
		first = first ? first : e;
	}
	if (PQpipelineStatus(pg) != PQ_PIPELINE_OFF && !PQexitPipelineMode(pg) && !err) {
		conn_err_set(c, PQerrorMessage(pg));
		err = EIO;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		c->lost_in_txn = true;
		err = EIO;
	}
out:
	for (unsigned i = 0; i < nq; i++) {
		if (err && !q[i]->err)
			q[i]->err = err;
		if (q[i]->err) {
			PQclear(q[i]->res);
			q[i]->res = NULL;
		}
	}
	if (s) {
		err = s->err;
		s->err = 0;
		if (err)
			*rowsp = false;
	}
	return err;
}

/* Runs the statements sent on c and not yet run (db_send). */
static int sent_flush(struct pg_conn *c)
{
	bool rows;

	if (!c->n_sent)
		return 0;
	if (c->lost_in_txn || !c->pg || PQstatus(c->pg) != CONNECTION_OK) {
		sent_fail(c, EIO);
		return EIO;
	}
	return pipeline_run(c, NULL, &rows);
}

static int stmt_run(struct pg_stmt *s)
{
	struct pg_conn *c = s->c;
	char begin[PG_DEFER_LEN] = "";
	bool rows = false, idle;
	int err;

	if (c->lost_in_txn && sql_is_rollback(s->sql)) {
		c->lost_in_txn = false; /* the transaction ended with the connection */
		return 0;
	}
	if (begin_held(c) && !c->n_sent && sql_is_rollback(s->sql)) {
		c->n_deferred = 0; /* nothing read: no transaction to end */
		return 0;
	}
	if (begin_hold_ok(c, s->sql)) {
		snprintf(c->deferred[c->n_deferred++], PG_DEFER_LEN, "%s", s->sql);
		return 0;
	}
	if (begin_held(c) && !c->n_sent)
		snprintf(begin, sizeof(begin), "%s", c->deferred[0]);
	for (int attempt = 0;; attempt++) {
		err = conn_ensure(c, s->sql);
		if (err)
			return err;
		/* Reconnected: the held BEGIN went with the old connection. */
		if (begin[0] && !c->n_deferred)
			snprintf(c->deferred[c->n_deferred++], PG_DEFER_LEN, "%s", begin);
		idle = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
		if (c->n_deferred || c->n_sent) {
			err = s->cached ? stmt_prepare_pipelined(s) : 0;
			if (!err)
				err = pipeline_run(c, s, &rows);
			if (!err)
				break;
			/* Inside a transaction: never run again — unless all it had was the
			 * held BEGIN, whose connection was lost before anything ran. */
			if (!begin[0] || attempt || err != EIO || !c->pg ||
			    PQstatus(c->pg) == CONNECTION_OK)
				return err;
			c->lost_in_txn = false;
			continue;
		}
		err = s->cached ? stmt_prepare(s) : 0;
		if (!err) {
			c->round_trips++;
			s->res = s->cached
				? PQexecPrepared(c->pg, s->name, s->nparams, s->values,
						 s->lengths, s->formats, 0)
				: PQexecParams(c->pg, s->text, s->nparams, NULL, s->values,
					       s->lengths, s->formats, 0);
			err = conn_result(c, s->res, &rows);
			if (err) {
				PQclear(s->res);
				s->res = NULL;
			}
		}
		if (!err)
			break;
		if (!conn_lost(c, idle, s->sql, err) || attempt)
			return err;
	}
	if (!rows) {
		PQclear(s->res);
		s->res = NULL;
	}
	return 0;
}

/* A run that ends (after its last row, or an error) is over at once: the next db_step
 * runs the statement again, with the bindings it has then (db.h; a loop of inserts binds
 * and steps one statement). */
static int pg_step(struct db_stmt *ds)
{
	struct pg_stmt *s = (struct pg_stmt *)ds;
	int err;

	if (!s)
		return EINVAL;
	if (s->queued)
		(void)sent_flush(s->c); /* s's own outcome is in s->err */
	if (s->err) {
		err = s->err;
		stmt_clear_result(s);
		return err;
	}
	if (!s->ran) {
		s->ran = true;
		err = stmt_run(s);
		if (err) {
			s->ran = false;
			return err;
		}
	}
	if (!s->res || s->row + 1 >= PQntuples(s->res)) {
		stmt_clear_result(s); /* no row to read any more; ran = false */
		return DB_DONE;
	}
	s->row++;
	return DB_ROW;
}

/* db_send: s waits in its connection's pipeline for the next statement that must
 * answer. Outside a healthy transaction it is left to run at its db_step, as on SQLite
 * (a pipeline there would save nothing a caller could rely on). */
static int pg_send(struct db_stmt *ds)
{
	struct pg_stmt *s = (struct pg_stmt *)ds;
	struct pg_conn *c;
	int err;

	if (!s)
		return EINVAL;
	c = s->c;
	if (s->queued || s->ran)
		stmt_clear_result(s);
	if (c->lost_in_txn || !c->pg || PQstatus(c->pg) != CONNECTION_OK ||
	    PQtransactionStatus(c->pg) != PQTRANS_INTRANS)
		return 0;
	if (c->n_sent == PG_SEND_MAX) {
		err = sent_flush(c);
		if (err)
			return err;
	}
	err = s->cached ? stmt_prepare_pipelined(s) : 0;
	if (err)
		return err;
	s->ran = true;
	s->queued = true;
	c->sent[c->n_sent++] = s;
	return 0;
}

static const char *col_value(struct pg_stmt *s, int col)
{
	if (!s->res || s->row < 0 || s->row >= PQntuples(s->res) || col < 0 ||
	    col >= PQnfields(s->res) || PQgetisnull(s->res, s->row, col))
		return NULL;
	return PQgetvalue(s->res, s->row, col);
}

static int64_t pg_col_int64(struct db_stmt *ds, int col)
{
	struct pg_stmt *s = (struct pg_stmt *)ds;
	const char *v = col_value(s, col);

	if (!v)
		return 0;
	if (PQftype(s->res, col) == PG_BOOLOID)
		return *v == 't';
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct db_stmt *ds, int col)
{
	struct pg_stmt *s = (struct pg_stmt *)ds;
	const char *v = col_value(s, col);

	return v ? v : "";
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static const void *pg_col_blob(struct db_stmt *ds, int col, size_t *len)
{
	struct pg_stmt *s = (struct pg_stmt *)ds;
	const char *v = col_value(s, col);
	size_t n, need;

	*len = 0;
	if (!v)
		return "";
	if (PQftype(s->res, col) != PG_BYTEAOID) {
		*len = (size_t)PQgetlength(s->res, s->row, col);
		return v;
	}
	/* bytea_output = hex (the default since 9.0): "\x" then two digits a byte. */
	n = strlen(v);
	if (n < 2 || v[0] != '\\' || v[1] != 'x') {
		log_error("store", "postgresql: a BYTEA column not in hex form");
		return "";
	}
	need = (n - 2) / 2;
	if (need + 1 > s->blob_size) {
		/* libre's mem_realloc does not take NULL */
		uint8_t *b = s->blob ? mem_realloc(s->blob, need + 1) : mem_alloc(need + 1, NULL);

		if (!b)
			return "";
		s->blob = b;
		s->blob_size = need + 1;
	}
	for (size_t i = 0; i < need; i++) {
		int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);

		if (hi < 0 || lo < 0)
			return "";
		s->blob[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = need;
	return s->blob;
}

static bool pg_col_null(struct db_stmt *ds, int col)
{
	struct pg_stmt *s = (struct pg_stmt *)ds;
	return !col_value(s, col);
}

static uint64_t pg_changes(struct db_conn *dc)
{
	struct pg_conn *c = (struct pg_conn *)dc;
	return c->changes;
}

static int pg_exec(struct db_conn *dc, const char *sql)
{
	struct pg_conn *c = (struct pg_conn *)dc;
	bool rows, idle;
	int err;

	char batch[PG_DEFER_MAX * (PG_DEFER_LEN + 1) + 256];
	const char *text = sql;

	if (c->lost_in_txn && sql_is_rollback(sql)) {
		c->lost_in_txn = false;
		return 0;
	}
	if (begin_held(c) && !c->n_sent && sql_is_rollback(sql)) {
		c->n_deferred = 0;
		return 0;
	}
	if (c->n_sent && sql_is_rollback(sql)) {
		sent_fail(c, ECANCELED); /* the whole transaction goes */
	}
	else if (c->n_sent) {
		err = sent_flush(c); /* before sql, in their order */
		if (err)
			return err;
	}
	if (defer_ok(c, sql)) {
		snprintf(c->deferred[c->n_deferred++], PG_DEFER_LEN, "%s", sql);
		c->changes = 0;
		return 0;
	}
	if (sql_is_rollback(sql)) {
		c->n_deferred = 0; /* savepoints of a transaction that goes whole */
	}
	else if (c->n_deferred && strlen(sql) < 256) {
		/* With the held-back savepoints, one simple query: one round trip. */
		size_t o = 0;

		for (unsigned i = 0; i < c->n_deferred; i++)
			o += (size_t)snprintf(batch + o, sizeof(batch) - o, "%s;",
					      c->deferred[i]);
		snprintf(batch + o, sizeof(batch) - o, "%s", sql);
		text = batch;
	}
	else if (c->n_deferred) {
		err = deferred_flush(c);
		if (err)
			return err;
	}
	c->n_deferred = 0;
	for (int attempt = 0;; attempt++) {
		PGresult *r;

		err = conn_ensure(c, sql);
		if (err)
			return err;
		idle = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
		c->round_trips++;
		r = PQexec(c->pg, text);
		err = conn_result(c, r, &rows);
		PQclear(r);
		if (!err || attempt || !conn_lost(c, idle, sql, err))
			return err;
	}
}

static bool pg_in_txn(struct db_conn *dc)
{
	struct pg_conn *c = (struct pg_conn *)dc;
	if (c->lost_in_txn || begin_held(c))
		return true; /* until the caller ends it */
	if (!c->pg)
		return false;
	switch (PQtransactionStatus(c->pg)) {
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
	case PQTRANS_ACTIVE:
		return true;
	default:
		return false; /* idle, or unknown: the connection and its transaction are gone */
	}
}

/* Transaction-scoped advisory locks, all keys in one statement (in their order, as the
 * array lists them): released by COMMIT, ROLLBACK, or a ROLLBACK TO a savepoint taken
 * before them. The wait is bounded by the connection's lock_timeout. Without wait, every
 * key is tried; those taken stay taken until the caller rolls its savepoint back. */
static int pg_lock_keys(struct db_conn *dc, const int64_t *keys, size_t n, bool wait)
{
	struct db_stmt *s = pg_stmt_get(dc, wait
		? "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(? AS BIGINT[])) AS k"
		: "SELECT pg_try_advisory_xact_lock(k) FROM unnest(CAST(? AS BIGINT[])) AS k");
	char arr[DB_LOCK_KEYS_MAX * 22 + 3];
	size_t o = 0;
	bool got = true;
	int rc;

	if (!s)
		return EIO;
	if (!n)
		return 0;
	if (n > DB_LOCK_KEYS_MAX)
		return EINVAL;
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(arr + o, sizeof(arr) - o, "%c%lld", i ? ',' : '{',
				      (long long)keys[i]);
	snprintf(arr + o, sizeof(arr) - o, "}");
	pg_bind_text(s, 1, arr, -1);
	while ((rc = pg_step(s)) == DB_ROW)
		got = got && (wait || pg_col_int64(s, 0) == 1); /* void when waited for */
	if (rc != DB_DONE)
		return rc > 0 ? rc : EIO;
	return got ? 0 : EAGAIN;
}

static uint64_t pg_round_trips(const struct db_conn *dc)
{
	return ((const struct pg_conn *)dc)->round_trips;
}

static int pg_listen(struct db_conn *dc, const char *channel)
{
	char sql[96];

	if (!channel || !*channel || strspn(channel, "abcdefghijklmnopqrstuvwxyz_") !=
	    strlen(channel) || strlen(channel) > 63)
		return EINVAL;
	snprintf(sql, sizeof(sql), "LISTEN %s", channel);
	return pg_exec(dc, sql);
}

/* Drains what the server sent: whether any notification was among it. */
static bool notifies_drain(PGconn *pg)
{
	PGnotify *n;
	bool got = false;

	while ((n = PQnotifies(pg))) {
		PQfreemem(n);
		got = true;
	}
	return got;
}

static int pg_wait_notify(struct db_conn *dc, int timeout_ms)
{
	struct pg_conn *c = (struct pg_conn *)dc;
	struct pollfd p = {0};
	int rc;

	if (!c->pg || PQstatus(c->pg) != CONNECTION_OK || !PQconsumeInput(c->pg))
		return EIO;
	if (notifies_drain(c->pg))
		return 0;
	p.fd = PQsocket(c->pg);
	p.events = POLLIN;
	rc = poll(&p, 1, timeout_ms);
	if (rc <= 0)
		return rc < 0 && errno != EINTR ? errno : ETIMEDOUT;
	if (!PQconsumeInput(c->pg))
		return EIO;
	return notifies_drain(c->pg) ? 0 : ETIMEDOUT;
}

static const char *pg_errmsg(struct db_conn *dc)
{
	struct pg_conn *c = (struct pg_conn *)dc;
	return c->err;
}

static const struct db_ops pg_ops = {
	.backend = DB_POSTGRESQL,
	.stmt = pg_stmt_get,
	.prepare = pg_prepare,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.reset = pg_reset,
	.col_int64 = pg_col_int64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.col_null = pg_col_null,
	.changes = pg_changes,
	.exec = pg_exec,
	.in_txn = pg_in_txn,
	.lock_keys = pg_lock_keys,
	.send = pg_send,
	.round_trips = pg_round_trips,
	.listen = pg_listen,
	.wait_notify = pg_wait_notify,
	.errmsg = pg_errmsg,
};
