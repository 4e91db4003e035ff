/* deliver: the push thread — claims due outbox rows, POSTs them with libcurl multi,
 * fetches OAuth2 tokens on the same handle, and records every result.
 *
 * One thread owns everything below struct push's atomics: the curl handles, the jobs, the
 * cached instance settings and tokens. Other threads only set `wake` and call
 * curl_multi_wakeup (the store's writer after a batch that added outbox rows, and
 * mem_deref at stop).
 *
 * A row's life here: claimed (leased in the database, so no one else takes it and its
 * session's later rows wait) → a job → maybe parked on its instance until a token arrives
 * → one HTTP request → a result (delivered, retry at a time, or dead) written in one
 * transaction with the other results of that round → the job is freed and the session's
 * next row becomes claimable. A crash anywhere leaves the row pending: the next start
 * releases the leases and sends it again with the same push id (at least once).
 *
 * Sharing. The requests in flight (concurrency) are shared by the instances, each behind
 * its own receiver, so that one receiver that hangs cannot hold up the others' pushes. A
 * request cannot be taken back once sent, so the share is kept at claim time: an instance
 * alone with work takes at most three quarters of the slots (the last quarter stays for an
 * instance whose work arrives meanwhile), n instances with work at most 1/n each, and the
 * free slots of one claim are split evenly between the instances that want them
 * (store_outbox_claim). A receiver that fails (no answer, 429, 5xx) PUSH_BACKOFF_AFTER
 * times in a row is backed off: no new request until push_backoff_ms has passed, then one
 * request alone (a probe); its failure doubles the wait, any answer ends the back-off. A
 * failure now and then (a flaky receiver) does not stop an instance; rows wait meanwhile
 * without spending their own retries. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_mbuf.h>
#include <re_list.h>
#include <re_hash.h>
#include "base/base.h"
#include "metrics/metrics.h"
#include "push/push.h"
#include "tenant/tenant.h"

enum {
	LEASE_MS = 10 * 60 * 1000,     /* longer than any request (timeouts are at most 300 s) */
	REPLY_MAX = 64 * 1024,          /* a reply beyond this is not read further */
	TOKEN_MAX = 4096,
	TOKEN_CACHE_MAX_S = 3600,       /* a token without expires_in is kept this long */
	TOKEN_MARGIN_S = 60,            /* refetch this long before expires_in */
	PURGE_EVERY_MS = 60 * 60 * 1000,
	PENDING_EVERY_MS = 1000,       /* the queue's depth for /metrics: a count a second */
	DRAIN_POLL_MS = 50,
	INSTS_HASH = 256,               /* buckets of the instance table */
};

/* One instance's settings and OAuth2 token, cached by the push thread (owned by
 * push->insts, freed with the push). */
struct inst {
	struct le le;                  /* in push->insts */
	uint64_t sdkappid;
	int load_err;                  /* 0, ENOENT (no settings) or why they are unreadable */
	struct push_settings s;
	uint64_t loaded_ms;            /* monotonic */
	char token[TOKEN_MAX];
	bool has_token;
	uint64_t token_until_ms;       /* monotonic; new requests refetch after this */
	uint32_t token_gen;            /* bumped at every new token */
	bool fetching;
	struct list waiting;           /* struct job parked until the token arrives */
	unsigned busy;                 /* its jobs (claimed, not ended) */
	unsigned fails;                /* failed attempts of its receiver in a row */
	unsigned backoff;              /* rounds of back-off so far; 0: not backing off */
	uint64_t retry_at_ms;          /* monotonic; in a back-off, the next probe not before */
};

/* One claimed row (owned by the push thread until its result is taken). */
struct job {
	struct le le;                  /* in inst->waiting while parked */
	struct push *p;
	struct store_outbox_row *row;  /* reference */
	struct inst *inst;
	uint32_t token_gen;            /* the token its request carried */
	bool reauth;                   /* already re-sent once after a 401 */
	bool probe;                    /* the one request of its instance's back-off */
};

/* One HTTP request in flight: a push (job set) or a token request (job NULL). Owned by
 * push->xfers. */
struct xfer {
	struct le le;
	struct push *p;
	CURL *easy;
	struct curl_slist *hdrs;
	struct mbuf *reply;
	bool truncated;
	char *body;                    /* the body as rewritten by body_h (free()), or NULL */
	struct job *job;
	struct inst *inst;
	char errbuf[CURL_ERROR_SIZE];
};

struct push {
	struct store *st;              /* not owned */
	struct tenant *t;              /* not owned */
	struct push_conf conf;
	CURLM *multi;
	pthread_t thread;
	bool thread_running;
	bool curl_inited;
	atomic_bool stop;
	atomic_bool wake;
	atomic_uint_fast64_t delivered, failures, dead, busy;
	/* a reload's settings, handed to the push thread (push_reconf) */
	pthread_mutex_t next_lock;
	struct push_conf next;
	atomic_bool reconf;

	/* push thread only */
	bool draining;
	struct hash *insts;            /* struct inst by sdkappid */
	struct list xfers;
	unsigned rotate;               /* which due instance a claim serves first */
	unsigned handed;               /* rows the claim under way handed out */
	int64_t unsure_lease;          /* the lease of a claim whose write failed, to drop
					  once the store works (it may have committed); 0 none */
	struct store_outbox_result *res; /* results of this round (mem array) */
	size_t n_res, cap_res;
};

/* ---- results ----------------------------------------------------------------------- */

static void job_destructor(void *arg)
{
	struct job *j = arg;

	list_unlink(&j->le);
	mem_deref(j->row);
}

static struct store_outbox_result *result_new(struct push *p)
{
	if (p->n_res == p->cap_res) {
		size_t cap = p->cap_res ? 2 * p->cap_res : 64;
		/* libre's mem_realloc does not take NULL: the first array is allocated. */
		struct store_outbox_result *r = p->res ? mem_realloc(p->res, cap * sizeof(*r))
						       : mem_zalloc(cap * sizeof(*r), NULL);

		if (!r)
			return NULL;
		p->res = r;
		p->cap_res = cap;
	}
	memset(&p->res[p->n_res], 0, sizeof(p->res[0]));
	return &p->res[p->n_res++];
}

/* Takes the job's result and frees it. attempted false: not sent (stop), try again as
 * soon as the deliverer runs. */
static void job_end(struct job *j, enum store_outbox_state state, bool attempted,
		    int64_t next_ms, const char *why)
{
	struct push *p = j->p;
	struct store_outbox_result *r = result_new(p);

	/* Without memory for the result the row stays leased: it is retried when the
	 * lease ends (at least once still holds). */
	if (!r)
		log_error("push", "no memory to record the result of %s", j->row->id);
	if (r) {
		r->seq = j->row->seq;
		r->state = state;
		r->attempted = attempted;
		r->now_ms = clock_unix_ms();
		r->next_ms = next_ms ? next_ms : r->now_ms;
		snprintf(r->error, sizeof(r->error), "%s", why ? why : "");
	}
	atomic_fetch_sub(&p->busy, 1);
	if (j->inst)
		j->inst->busy--;
	mem_deref(j);
}

static void job_delivered(struct job *j)
{
	log_context_session(j->row->session_id, NULL);
	log_debug("push", "%s %s of session %s delivered", j->row->action, j->row->id,
		  j->row->session_id);
	log_context_session(NULL, NULL);
	atomic_fetch_add(&j->p->delivered, 1);
	metrics_push_result(true);
	job_end(j, STORE_OUTBOX_DELIVERED, true, 0, "");
}

static const struct push_schedule *job_schedule(const struct job *j)
{
	const struct push_settings *s = j->inst ? &j->inst->s : NULL;
	bool event = !strcmp(j->row->action, "event");

	if (event)
		return s && s->event_retry_set ? &s->event_retry : &j->p->conf.event_retry;
	return s && s->retry_set ? &s->retry : &j->p->conf.retry;
}

/* A failed attempt: retried on the schedule, or dead when the retries are spent. */
static void job_failed(struct job *j, const char *why)
{
	const struct push_schedule *sched = job_schedule(j);
	unsigned attempts = j->row->attempts + 1;
	uint32_t rnd = 0;

	atomic_fetch_add(&j->p->failures, 1);
	metrics_push_result(false);
	log_context_session(j->row->session_id, NULL); /* the lines below are about it */
	if (attempts > sched->n) {
		log_warn("push", "%s %s of session %s (instance %" PRIu64 ") is dead after %u "
			 "attempt%s: %s", j->row->action, j->row->id, j->row->session_id,
			 j->row->sdkappid, attempts, attempts == 1 ? "" : "s", why);
		atomic_fetch_add(&j->p->dead, 1);
		log_context_session(NULL, NULL);
		job_end(j, STORE_OUTBOX_DEAD, true, 0, why);
		return;
	}
	(void)ids_random(&rnd, sizeof(rnd));
	log_info("push", "%s %s of session %s failed (attempt %u): %s", j->row->action,
		 j->row->id, j->row->session_id, attempts, why);
	log_context_session(NULL, NULL);
	job_end(j, STORE_OUTBOX_PENDING, true,
		clock_unix_ms() + push_retry_delay_ms(sched->ms[attempts - 1],
						      j->p->conf.jitter_pct, rnd), why);
}

/* A row that cannot be sent at all as configured now: dead at once, kept for replay. */
static void job_refused(struct job *j, const char *why)
{
	log_warn("push", "%s %s of session %s (instance %" PRIu64 ") is dead: %s",
		 j->row->action, j->row->id, j->row->session_id, j->row->sdkappid, why);
	atomic_fetch_add(&j->p->dead, 1);
	job_end(j, STORE_OUTBOX_DEAD, false, 0, why);
}

static void results_flush(struct push *p)
{
	int err;

	if (!p->n_res)
		return;
	err = store_outbox_results(p->st, p->res, p->n_res);
	if (err)
		log_error("push", "cannot record %zu push results: %s (the rows will be sent "
			  "again)", p->n_res, strerror(err));
	p->n_res = 0;
	/* A session's next row may be claimable now. */
	atomic_store(&p->wake, true);
}

/* ---- instances ----------------------------------------------------------------------- */

static void inst_destructor(void *arg)
{
	struct inst *in = arg;

	list_flush(&in->waiting);
	memset(&in->s, 0, sizeof(in->s));
	memset(in->token, 0, sizeof(in->token));
}

static bool same_credentials(const struct push_settings *a, const struct push_settings *b)
{
	return a->auth == b->auth && !strcmp(a->user, b->user) &&
	       !strcmp(a->secret, b->secret) && !strcmp(a->token_url, b->token_url);
}

static uint32_t inst_key(uint64_t sdkappid)
{
	return (uint32_t)(sdkappid ^ sdkappid >> 32);
}

static bool inst_is(struct le *le, void *arg)
{
	return ((struct inst *)le->data)->sdkappid == *(const uint64_t *)arg;
}

/* The instance as far as the push thread knows it; NULL when it has not had a row yet. */
static struct inst *inst_find(const struct push *p, uint64_t sdkappid)
{
	struct le *le = hash_lookup(p->insts, inst_key(sdkappid), inst_is, &sdkappid);

	return le ? le->data : NULL;
}

/* The instance's settings, re-read from the database once they are older than
 * settings_cache_ms (they are changed by `ccc push config`, maybe in another process). */
static struct inst *inst_get(struct push *p, uint64_t sdkappid)
{
	uint64_t now = clock_mono_ms();
	struct push_settings fresh = {0};
	struct inst *in = inst_find(p, sdkappid);
	int err;

	if (in && now - in->loaded_ms < p->conf.settings_cache_ms)
		return in;
	if (!in) {
		in = mem_zalloc(sizeof(*in), inst_destructor);
		if (!in)
			return NULL;
		in->sdkappid = sdkappid;
		hash_append(p->insts, inst_key(sdkappid), &in->le, in);
	}
	err = push_settings_get(p->t, sdkappid, &fresh);
	if (err || !same_credentials(&fresh, &in->s)) {
		in->has_token = false;
		memset(in->token, 0, sizeof(in->token));
	}
	in->load_err = err;
	in->s = fresh;
	memset(&fresh, 0, sizeof(fresh));
	in->loaded_ms = now;
	return in;
}

/* What an attempt says about the instance's receiver (see Sharing at the top). Requests
 * that were in flight when a back-off began fail too; they say nothing new, so only the
 * failure that starts it and the probes' move the back-off on. */
static void inst_health(struct push *p, struct inst *in, bool failing, bool probe,
			const char *why)
{
	uint32_t rnd = 0, wait_ms;

	if (!failing) {
		if (in->backoff)
			log_info("push", "instance %" PRIu64 ": the receiver answers again",
				 in->sdkappid);
		in->fails = 0;
		in->backoff = 0;
		return;
	}
	in->fails++;
	if (in->backoff ? !probe : in->fails < PUSH_BACKOFF_AFTER)
		return;
	in->backoff++;
	(void)ids_random(&rnd, sizeof(rnd));
	wait_ms = push_backoff_ms(in->backoff, p->conf.jitter_pct, rnd);
	in->retry_at_ms = clock_mono_ms() + wait_ms;
	log_warn("push", "instance %" PRIu64 ": the receiver fails (%s): one request at a time, "
		 "the next in %" PRIu32 " ms", in->sdkappid, why, wait_ms);
}

/* ---- requests ------------------------------------------------------------------------ */

static void xfer_destructor(void *arg)
{
	struct xfer *x = arg;

	list_unlink(&x->le);
	if (x->easy) {
		curl_multi_remove_handle(x->p->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->hdrs);
	mem_deref(x->reply);
	free(x->body);
}

static size_t reply_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (x->reply->end + n > REPLY_MAX) {
		x->truncated = true;
		return n; /* read on, keep nothing */
	}
	return mbuf_write_mem(x->reply, (const uint8_t *)data, n) ? 0 : n;
}

/* A request with the options every push and token request share. */
static int xfer_alloc(struct xfer **xp, struct push *p, const char *url, uint32_t timeout_ms)
{
	struct xfer *x = mem_zalloc(sizeof(*x), xfer_destructor);
	CURL *e;

	if (!x)
		return ENOMEM;
	x->p = p;
	x->reply = mbuf_alloc(512);
	x->easy = e = curl_easy_init();
	if (!x->reply || !e) {
		mem_deref(x);
		return ENOMEM;
	}
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK) {
		mem_deref(x);
		return EINVAL;
	}
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "cccd-push/1");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, reply_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	*xp = x;
	return 0;
}

static int xfer_start(struct xfer *x)
{
	if (curl_multi_add_handle(x->p->multi, x->easy) != CURLM_OK)
		return ENOMEM;
	list_append(&x->p->xfers, &x->le, x);
	return 0;
}

static uint32_t inst_timeout(const struct push *p, const struct inst *in)
{
	return in->s.timeout_ms ? in->s.timeout_ms : p->conf.timeout_ms;
}

static int header_add(struct curl_slist **list, const char *fmt, const char *value)
{
	char line[TOKEN_MAX + 64];
	struct curl_slist *l;

	snprintf(line, sizeof(line), fmt, value);
	l = curl_slist_append(*list, line);
	memset(line, 0, sizeof(line));
	if (!l)
		return ENOMEM;
	*list = l;
	return 0;
}

static void token_fetch(struct inst *in, struct push *p);

/* POSTs the job's row; the job is ended here on a local error. */
static void job_send(struct job *j)
{
	struct push *p = j->p;
	struct inst *in = j->inst;
	char url[sizeof(in->s.url) + 64], key[256];
	struct xfer *x = NULL;
	const char *body;
	int err;

	if (p->draining) {
		job_end(j, STORE_OUTBOX_PENDING, false, 0, j->row->last_error);
		return;
	}
	err = push_url_join(in->s.url, j->row->action, url, sizeof(url));
	if (err) {
		job_refused(j, err == ENOSPC ? "the push URL is too long" : "unknown action");
		return;
	}
	err = xfer_alloc(&x, p, url, inst_timeout(p, in));
	if (err)
		goto out;
	x->job = j;
	x->inst = in;
	push_dedupe_key(j->row->session_id, j->row->action, j->row->body, key, sizeof(key));
	err = header_add(&x->hdrs, "%s", "Content-Type: application/json;charset=utf8");
	err = err ? err : header_add(&x->hdrs, "X-TCCC-PUSH-UUID: %s", j->row->id);
	err = err ? err : header_add(&x->hdrs, "X-CCCD-PUSH-KEY: %s", key);
	err = err ? err : header_add(&x->hdrs, "%s", "Expect:");
	if (!err && in->s.auth == STORE_PUSH_AUTH_OAUTH2) {
		err = header_add(&x->hdrs, "Authorization: Bearer %s", in->token);
		j->token_gen = in->token_gen;
	}
	if (err)
		goto out;
	if (in->s.auth == STORE_PUSH_AUTH_BASIC) {
		curl_easy_setopt(x->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(x->easy, CURLOPT_USERNAME, in->s.user);
		curl_easy_setopt(x->easy, CURLOPT_PASSWORD, in->s.secret);
	}
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	if (p->conf.body_h && p->conf.body_h(j->row, &x->body, p->conf.body_arg)) {
		mem_deref(x);
		job_failed(j, "the body could not be prepared");
		return;
	}
	body = x->body ? x->body : j->row->body;
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	err = xfer_start(x);
out:
	if (err) {
		mem_deref(x);
		job_failed(j, err == ENOMEM ? "out of memory" : "the push URL is not usable");
	}
}

static bool token_usable(const struct inst *in)
{
	return in->has_token && clock_mono_ms() < in->token_until_ms;
}

/* Sends the job at once, or parks it until its instance has a token. */
static void job_go(struct job *j)
{
	struct inst *in = j->inst;

	if (in->s.auth != STORE_PUSH_AUTH_OAUTH2 || token_usable(in)) {
		job_send(j);
		return;
	}
	list_append(&in->waiting, &j->le, j);
	if (!in->fetching)
		token_fetch(in, j->p);
}

/* Every job parked on the instance fails with why (or waits for the next start). */
static void waiting_fail(struct inst *in, struct push *p, const char *why)
{
	while (in->waiting.head) {
		struct job *j = in->waiting.head->data;

		list_unlink(&j->le);
		if (p->draining)
			job_end(j, STORE_OUTBOX_PENDING, false, 0, j->row->last_error);
		else
			job_failed(j, why);
	}
}

/* RFC 6749 §4.4: client credentials, HTTP Basic client authentication with the id and
 * secret form-encoded (§2.3.1). */
static void token_fetch(struct inst *in, struct push *p)
{
	char *user = NULL, *pass = NULL;
	struct xfer *x = NULL;
	int err;

	if (p->draining) {
		waiting_fail(in, p, "");
		return;
	}
	err = xfer_alloc(&x, p, in->s.token_url, inst_timeout(p, in));
	if (err)
		goto out;
	x->inst = in;
	err = header_add(&x->hdrs, "%s", "Content-Type: application/x-www-form-urlencoded");
	err = err ? err : header_add(&x->hdrs, "%s", "Accept: application/json");
	err = err ? err : header_add(&x->hdrs, "%s", "Expect:");
	user = curl_easy_escape(x->easy, in->s.user, 0);
	pass = curl_easy_escape(x->easy, in->s.secret, 0);
	if (err || !user || !pass) {
		err = ENOMEM;
		goto out;
	}
	curl_easy_setopt(x->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(x->easy, CURLOPT_USERNAME, user);
	curl_easy_setopt(x->easy, CURLOPT_PASSWORD, pass);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, "grant_type=client_credentials");
	err = xfer_start(x);
	if (!err)
		in->fetching = true;
out:
	if (pass) {
		memset(pass, 0, strlen(pass));
		curl_free(pass);
	}
	curl_free(user);
	if (err) {
		mem_deref(x);
		waiting_fail(in, p, "oauth2: cannot start the token request");
	}
}

static void token_done(struct xfer *x, CURLcode code)
{
	struct inst *in = x->inst;
	struct push *p = x->p;
	char why[CURL_ERROR_SIZE + 32], detail[160];
	int64_t expires = 0;
	long status = 0;

	in->fetching = false;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK) {
		snprintf(why, sizeof(why), "oauth2 token: %s",
			 *x->errbuf ? x->errbuf : curl_easy_strerror(code));
	}
	else if (status < 200 || status > 299) {
		snprintf(why, sizeof(why), "oauth2 token: HTTP %ld", status);
	}
	else if (x->truncated ||
		 push_token_parse((const char *)x->reply->buf, x->reply->end, in->token,
				  sizeof(in->token), &expires, detail, sizeof(detail))) {
		snprintf(why, sizeof(why), "oauth2 token: %s",
			 x->truncated ? "the reply is too long" : detail);
	}
	else {
		uint64_t keep_s = expires ? (expires > TOKEN_MARGIN_S ? expires - TOKEN_MARGIN_S : 0)
					  : TOKEN_CACHE_MAX_S;

		in->has_token = true;
		in->token_gen++;
		in->token_until_ms = clock_mono_ms() + keep_s * 1000;
		/* The parked jobs go with this token even when it is too short-lived to
		 * cache: it was valid when issued. */
		while (in->waiting.head) {
			struct job *j = in->waiting.head->data;

			list_unlink(&j->le);
			job_send(j);
		}
		return;
	}
	log_warn("push", "instance %" PRIu64 ": %s", in->sdkappid, why);
	/* The probe, if any, is among the jobs waiting for this token. */
	inst_health(p, in, push_receiver_failing(code == CURLE_OK, status), in->backoff > 0, why);
	waiting_fail(in, p, why);
}

static void push_done(struct xfer *x, CURLcode code)
{
	struct job *j = x->job;
	struct inst *in = j->inst;
	char why[256];
	long status = 0;

	x->job = NULL;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK) {
		const char *err = *x->errbuf ? x->errbuf : curl_easy_strerror(code);

		inst_health(x->p, in, true, j->probe, err);
		job_failed(j, err);
		return;
	}
	snprintf(why, sizeof(why), "HTTP %ld", status);
	inst_health(x->p, in, push_receiver_failing(true, status), j->probe, why);
	/* A 401 with an OAuth2 token: the token may have been revoked or expired early.
	 * Fetch a new one (unless another request already did) and send once more. */
	if (status == 401 && in->s.auth == STORE_PUSH_AUTH_OAUTH2 && !j->reauth) {
		j->reauth = true;
		if (in->has_token && in->token_gen == j->token_gen) {
			in->has_token = false;
			memset(in->token, 0, sizeof(in->token));
		}
		job_go(j);
		return;
	}
	if (x->truncated) {
		job_failed(j, "the reply is longer than 64 KiB");
		return;
	}
	if (push_reply_ok(status, (const char *)x->reply->buf, x->reply->end, why, sizeof(why)))
		job_delivered(j);
	else
		job_failed(j, why);
}

/* Takes every finished request off the multi handle. */
static void reap(struct push *p)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(p->multi, &left))) {
		struct xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		if (x->job)
			push_done(x, msg->data.result);
		else
			token_done(x, msg->data.result);
		mem_deref(x);
	}
}

/* ---- the loop ----------------------------------------------------------------------- */

/* hash_apply handler: whether the instance has a job for the row parked for its token. */
static bool inst_parks_row(struct le *le, void *arg)
{
	const struct inst *in = le->data;
	const uint64_t *seq = arg;

	for (struct le *w = in->waiting.head; w; w = w->next) {
		if (((const struct job *)w->data)->row->seq == *seq)
			return true;
	}
	return false;
}

/* Whether a job of this push holds the outbox row (sending it, or parked for a token). */
static bool row_held(const struct push *p, uint64_t seq)
{
	for (struct le *le = p->xfers.head; le; le = le->next) {
		const struct xfer *x = le->data;

		if (x->job && x->job->row->seq == seq)
			return true;
	}
	return hash_apply(p->insts, inst_parks_row, &seq) != NULL;
}

static int on_claimed(struct store_outbox_row *row, void *arg)
{
	struct push *p = arg;
	struct job *j = mem_zalloc(sizeof(*j), job_destructor);
	struct inst *in;
	char why[160];

	/* The lease makes one delivery at a time per row (and a session's rows go in order);
	 * a delivered row is never claimed again. The walk is over jobs in flight: few. */
	BASE_ASSERT(row->state == STORE_OUTBOX_PENDING && !row_held(p, row->seq),
		    "an outbox row is leased to one delivery at a time, and only while pending");
	p->handed++;
	if (!j)
		return ENOMEM; /* the rest come back when their lease ends */
	j->p = p;
	j->row = mem_ref(row);
	atomic_fetch_add(&p->busy, 1);
	in = j->inst = inst_get(p, row->sdkappid);
	if (!in) {
		job_failed(j, "out of memory");
		return 0;
	}
	in->busy++;
	/* In a back-off, a claim gives an instance one row, and only with nothing in flight. */
	j->probe = in->backoff > 0;
	if (in->load_err == ENOENT) {
		job_refused(j, "the instance has no push settings");
		return 0;
	}
	if (in->load_err) {
		snprintf(why, sizeof(why), "cannot read the instance's push settings: %s",
			 strerror(in->load_err));
		job_failed(j, why);
		return 0;
	}
	if (!in->s.enabled) {
		job_refused(j, "push is disabled for the instance");
		return 0;
	}
	{
		unsigned bit = 0;

		if (!push_events_parse(row->action, &bit) && !(in->s.events & bit)) {
			snprintf(why, sizeof(why), "action %s is off for the instance",
				 row->action);
			job_refused(j, why);
			return 0;
		}
	}
	job_go(j);
	return 0;
}

/* The instances with due rows, as a claim gathers them (a mem array). */
struct due {
	struct store_outbox_room *rooms;
	size_t n, cap;
};

static int due_add(uint64_t sdkappid, void *arg)
{
	struct due *d = arg;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct store_outbox_room *r = d->rooms ? mem_realloc(d->rooms, cap * sizeof(*r))
							: mem_zalloc(cap * sizeof(*r), NULL);

		if (!r)
			return ENOMEM;
		d->rooms = r;
		d->cap = cap;
	}
	d->rooms[d->n].sdkappid = sdkappid;
	d->rooms[d->n].room = 0;
	d->n++;
	return 0;
}

/* Whether an instance may start a request now, its share aside: not while backing off,
 * and a probe only alone. */
static bool inst_may_send(const struct inst *in, uint64_t now)
{
	return !in || !in->backoff || (!in->busy && now >= in->retry_at_ms);
}

static bool due_has(const struct due *d, uint64_t sdkappid)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) { /* the store lists them in sdkappid order */
		size_t mid = (lo + hi) / 2;

		if (d->rooms[mid].sdkappid == sdkappid)
			return true;
		if (d->rooms[mid].sdkappid < sdkappid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Instances with requests in flight and no due row: they hold slots, so they count. */
struct busy_count {
	const struct due *d;
	unsigned n;
};

static bool busy_elsewhere(struct le *le, void *arg)
{
	const struct inst *in = le->data;
	struct busy_count *bc = arg;

	if (in->busy && !due_has(bc->d, in->sdkappid))
		bc->n++;
	return false;
}

/* Each instance's room in this claim (see Sharing at the top): the share is the slots
 * over the instances with work — those that may send and those with requests in flight
 * — and an instance's room is its share less what it has in flight. Returns the sum of
 * the rooms. */
static unsigned rooms_set(struct push *p, struct due *d, uint64_t now)
{
	unsigned c = p->conf.concurrency, active = 0, share, sum = 0;
	struct busy_count bc = {d, 0};

	for (size_t i = 0; i < d->n; i++) {
		const struct inst *in = inst_find(p, d->rooms[i].sdkappid);

		active += (in && in->busy) || inst_may_send(in, now);
	}
	hash_apply(p->insts, busy_elsewhere, &bc);
	active += bc.n;
	share = active <= 1 ? c - c / 4 : c / active;
	share = share ? share : 1;
	for (size_t i = 0; i < d->n; i++) {
		const struct inst *in = inst_find(p, d->rooms[i].sdkappid);
		unsigned busy = in ? in->busy : 0;

		if (!inst_may_send(in, now))
			d->rooms[i].room = 0;
		else if (in && in->backoff)
			d->rooms[i].room = 1;
		else
			d->rooms[i].room = busy < share ? share - busy : 0;
		sum += d->rooms[i].room;
	}
	return sum;
}

static void rooms_reverse(struct store_outbox_room *r, size_t from, size_t to)
{
	while (from + 1 < to) {
		struct store_outbox_room t = r[from];

		r[from++] = r[--to];
		r[to] = t;
	}
}

/* The instance served first gets the odd slot of an uneven split: each claim starts with
 * the next one (a left rotation by three reversals). */
static void rooms_rotate(struct push *p, struct due *d)
{
	size_t first = p->rotate++ % d->n;

	rooms_reverse(d->rooms, 0, first);
	rooms_reverse(d->rooms, first, d->n);
	rooms_reverse(d->rooms, 0, d->n);
}

static void claim(struct push *p)
{
	uint64_t busy = atomic_load(&p->busy);
	struct due d = {0};
	int err;

	/* An unusable store refuses the lease write; it logged that once, and its rows wait. */
	if (busy >= p->conf.concurrency || !store_usable(p->st))
		return;
	/* A claim whose write failed may have committed all the same (its answer lost with
	 * the server): its rows, handed to nobody, are released before anything else. */
	if (p->unsure_lease) {
		err = store_outbox_unclaim(p->st, p->unsure_lease);
		if (err)
			return;
		p->unsure_lease = 0;
	}
	err = store_outbox_due_instances(p->st, clock_unix_ms(), due_add, &d);
	/* Nothing to claim when every instance with work is at its share or backing off. */
	if (!err && d.n && rooms_set(p, &d, clock_mono_ms())) {
		int64_t now = clock_unix_ms();

		rooms_rotate(p, &d);
		p->handed = 0;
		err = store_outbox_claim(p->st, now, LEASE_MS,
					 p->conf.concurrency - (unsigned)busy, d.rooms, d.n,
					 on_claimed, p);
		/* Failed before any row went out: the write's, whose outcome is unknown. */
		if (err && !p->handed)
			p->unsure_lease = now + LEASE_MS;
	}
	if (err)
		log_error("push", "cannot claim outbox rows: %s", strerror(err));
	mem_deref(d.rooms);
}

static void purge(struct push *p)
{
	int64_t before = clock_unix_ms() - (int64_t)p->conf.retention_days * 86400000;
	unsigned n = 0;
	int err = store_outbox_purge(p->st, before, &n);

	if (err)
		log_error("push", "cannot purge the outbox: %s", strerror(err));
	else if (n)
		log_info("push", "purged %u delivered or dead pushes older than %" PRIu32 " days",
			 n, p->conf.retention_days);
}

static bool waiting_fail_all(struct le *le, void *arg)
{
	waiting_fail(le->data, arg, "");
	return false;
}

/* Stop: no new request; those in flight get stop_timeout_ms; the rest stay pending. */
static void drain(struct push *p)
{
	uint64_t deadline = clock_mono_ms() + p->conf.stop_timeout_ms;
	int running;

	p->draining = true;
	while (p->xfers.head && clock_mono_ms() < deadline) {
		curl_multi_perform(p->multi, &running);
		reap(p);
		results_flush(p);
		curl_multi_poll(p->multi, NULL, 0, DRAIN_POLL_MS, NULL);
	}
	while (p->xfers.head) {
		struct xfer *x = p->xfers.head->data;
		struct job *j = x->job;

		if (j)
			job_end(j, STORE_OUTBOX_PENDING, false, 0, j->row->last_error);
		else
			waiting_fail(x->inst, p, "");
		mem_deref(x);
	}
	hash_apply(p->insts, waiting_fail_all, p);
	results_flush(p);
}

/* On the push thread: the settings push_reconf left. What the thread was started with
 * (enabled, the body hook) stays; the rest applies from this round on — requests in
 * flight keep the timeout they started with. */
static void conf_take(struct push *p)
{
	pthread_mutex_lock(&p->next_lock);
	p->next.enabled = p->conf.enabled;
	p->next.body_h = p->conf.body_h;
	p->next.body_arg = p->conf.body_arg;
	p->conf = p->next;
	pthread_mutex_unlock(&p->next_lock);
	curl_multi_setopt(p->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)p->conf.concurrency);
	log_info("push", "reload: [push] settings applied (%u requests at most)",
		 p->conf.concurrency);
}

int push_reconf(struct push *p, const struct push_conf *pc)
{
	if (!p || !pc || !pc->concurrency)
		return EINVAL;
	if (pc->enabled != p->conf.enabled)
		return ENOTSUP;
	if (!p->thread_running)
		return 0;
	pthread_mutex_lock(&p->next_lock);
	p->next = *pc;
	pthread_mutex_unlock(&p->next_lock);
	atomic_store(&p->reconf, true);
	curl_multi_wakeup(p->multi);
	return 0;
}

/* The outbox's depth and its oldest pending row's age, for /metrics: read here, on the
 * push thread, which may wait on the store; a failed read leaves the last figures. */
static void pending_publish(struct push *p)
{
	uint64_t n;
	int64_t oldest, now = clock_unix_ms();

	if (store_outbox_pending(p->st, &n, &oldest))
		return;
	metrics_push_queue_set(n, oldest && oldest < now ? (uint64_t)(now - oldest) / 1000 : 0);
}

static void *push_main(void *arg)
{
	struct push *p = arg;
	uint64_t next_poll = 0, next_purge = clock_mono_ms(), next_pending = 0;
	int err = store_outbox_unlease(p->st);

	if (err)
		log_error("push", "cannot release old outbox leases: %s", strerror(err));
	while (!atomic_load(&p->stop)) {
		uint64_t now = clock_mono_ms();
		int running, timeout;
		bool woken = atomic_exchange(&p->wake, false);

		if (atomic_exchange(&p->reconf, false))
			conf_take(p);

		if (woken || now >= next_poll) {
			claim(p);
			next_poll = now + p->conf.poll_ms;
		}
		curl_multi_perform(p->multi, &running);
		reap(p);
		results_flush(p);
		if (now >= next_purge) {
			purge(p);
			next_purge = now + PURGE_EVERY_MS;
		}
		if (now >= next_pending) {
			pending_publish(p);
			next_pending = now + PENDING_EVERY_MS;
		}
		now = clock_mono_ms();
		/* A full claim may have left due rows behind; results may have unblocked a
		 * session: both set wake, and the next round claims at once if there is room. */
		if (atomic_load(&p->wake) && atomic_load(&p->busy) < p->conf.concurrency)
			timeout = 0;
		else
			timeout = next_poll > now ? (int)(next_poll - now) : 0;
		curl_multi_poll(p->multi, NULL, 0, timeout, NULL);
	}
	drain(p);
	return NULL;
}

/* ---- lifetime ----------------------------------------------------------------------- */

static void on_outbox(void *arg)
{
	struct push *p = arg;

	atomic_store(&p->wake, true);
	curl_multi_wakeup(p->multi);
}

static void push_destructor(void *arg)
{
	struct push *p = arg;

	if (p->thread_running) {
		store_outbox_watch(p->st, NULL, NULL);
		atomic_store(&p->stop, true);
		curl_multi_wakeup(p->multi);
		pthread_join(p->thread, NULL);
	}
	pthread_mutex_destroy(&p->next_lock);
	list_flush(&p->xfers);
	hash_flush(p->insts);
	mem_deref(p->insts);
	mem_deref(p->res);
	if (p->multi)
		curl_multi_cleanup(p->multi);
	if (p->curl_inited)
		curl_global_cleanup();
}

int push_alloc(struct push **pp, struct store *st, struct tenant *t,
	       const struct push_conf *pc)
{
	struct push *p;
	int err = 0;

	if (!pp || !st || !t || !pc || !pc->concurrency)
		return EINVAL;
	p = mem_zalloc(sizeof(*p), push_destructor);
	if (!p)
		return ENOMEM;
	p->st = st;
	p->t = t;
	p->conf = *pc;
	pthread_mutex_init(&p->next_lock, NULL);
	err = hash_alloc(&p->insts, INSTS_HASH);
	if (err)
		goto out;
	if (!pc->enabled) {
		log_info("push", "data push is off ([push] enabled = no)");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err = EIO;
		goto out;
	}
	p->curl_inited = true;
	p->multi = curl_multi_init();
	if (!p->multi) {
		err = ENOMEM;
		goto out;
	}
	curl_multi_setopt(p->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)pc->concurrency);
	atomic_store(&p->wake, true);
	store_outbox_watch(st, on_outbox, p);
	err = pthread_create(&p->thread, NULL, push_main, p);
	if (err) {
		store_outbox_watch(st, NULL, NULL);
		goto out;
	}
	p->thread_running = true;
	log_info("push", "data push running (%u requests at most)", pc->concurrency);
out:
	if (err)
		mem_deref(p);
	else
		*pp = p;
	return err;
}

void push_stats_get(const struct push *p, struct push_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	out->delivered = atomic_load(&p->delivered);
	out->failures = atomic_load(&p->failures);
	out->dead = atomic_load(&p->dead);
	out->in_flight = atomic_load(&p->busy);
}
