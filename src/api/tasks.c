/* tasks: the auto-callout scheduler (docs/tasks.md) — one thread beside the API's, started
 * with it, that every [tasks] tick_ms moves tasks through their states and places the
 * attempts that are due.
 *
 * It runs on its own thread, not on the control loop, for the reason CreateIVRSession runs
 * on the API's: an attempt is admitted exactly like a CreateIVRSession session (the calling
 * rules, counted inside the transaction that inserts it), which blocks on the store. The
 * loop gets each admitted session through the same hand-over (hooks->session_created) and
 * dials it through the dial queue like any other, so trunk limits, the durable dialled
 * mark and the restart rules of sessions hold for attempts too; the session's end gives
 * its callee the outcome in the store (store/task.c).
 *
 * Per tick: state changes (store_tasks_advance), then the running tasks in TaskId order,
 * from the task after the last one that got an odd call (below).
 * Pacing is per instance: [tasks] max_calls concurrent attempts, and calls_per_second new
 * ones through a token bucket that earns for the time that really passed and keeps what a
 * tick did not use (task_pace.c) — so a late tick loses nothing and the rate is limited
 * only by how fast attempts can be admitted (PLACERS threads at once, below). Each task gets its share of what is left of its instance's budget (the
 * budget left over divided by the tasks not yet served, so a task with little due leaves
 * the rest to the next) and its ConcurrencyLimit, and claims it in chunks of CLAIM_MAX
 * callees until the share is used or nothing more is due: the cost per attempt is one
 * claim's share and one admission, whatever the number of callees waiting.
 *
 * Windows: without a zone table, a task whose windows are closed in its TimeZone claims
 * nothing. With [tasks] zone_prefix lines, each callee's window is read in the zone of its
 * number's longest prefix (the task's zone when none matches): a claimed callee whose
 * window is closed is given back, due when its window next opens (api_window_next), so it
 * is read again only then — at most DEFER_MAX such per tick.
 *
 * A blocked attempt (blacklist, caps, blind area, hours) becomes a finished session with
 * EndStatus 108-111; a refusal that comes from the configuration (no caller number, no
 * route, the edition, the package) pauses the task with the reason instead of burning
 * tries, and the claim is given back. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "base/base.h"
#include "records/records.h"
#include "store/store.h"
#include "store/task.h"
#include "tenant/tenant.h"
#include "tz/tz.h"
#include "zonemap/zonemap.h"

enum {
	MAX_INSTANCES = 256,
	CLAIM_MAX = 64,         /* callees per claim (store_task_claim's bound) */
	DEFER_MAX = 1024,       /* callees pushed to their window's opening per tick */
	PLACERS = 8,            /* threads admitting one claim's callees at once */
};

/* An instance's bucket, kept from tick to tick. */
struct bucket {
	uint64_t sdkappid;
	struct api_pace_bucket b;
};

struct api_tasks {
	struct api_core *core;        /* not owned: it owns us */
	struct zonemap *zones;        /* owned: [tasks] zone_prefix; NULL when none */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	struct bucket buckets[MAX_INSTANCES];
	size_t n_buckets;
	size_t turn;                  /* which task goes first (index into a tick's list) */
};

/* One tick's pacing per instance: what is left of its budgets. */
struct pace {
	uint64_t sdkappid;
	struct api_pace_bucket *bucket;
	unsigned budget;              /* new calls this tick (the bucket's whole calls) */
	unsigned started;             /* attempts placed this tick */
	unsigned tasks;               /* its running tasks not yet served this tick */
	uint64_t calling;             /* its tasks' calls in progress */
};

struct tick {
	struct api_tasks *tk;
	int64_t now;
	struct pace pace[MAX_INSTANCES];
	size_t n_pace;
	struct store_task **tasks;    /* the running tasks, referenced, by TaskId */
	size_t n_tasks;
	atomic_uint deferred;         /* callees pushed to their window this tick */
	size_t odd;                   /* tasks whose share was rounded up this tick */
};

/* A claimed row, copied out of the claim (whose strings live during its handler only). */
struct claimed_row {
	struct store_callee_row r;    /* its strings point at the fields below */
	char callee[33];
	char *uui;                    /* owned (mem string); NULL = the task's */
	char *variables;              /* owned (mem string); NULL = the task's */
};

/* A claimed callee's attempt, with what it needs of its task. */
struct attempt {
	struct tick *tk;
	const struct store_task *t;
	const struct tz *tz;          /* the task's TimeZone (NULL: UTC) */
	struct store_instance inst;
	char *rules;                  /* owned: the instance's callout rules' text, read with
					 inst for this turn */
	uint32_t ivr_version;
	bool ai;                      /* the flow has an AI node: each call takes a licence */
	atomic_bool hold;             /* place no more of this claim: the task paused itself,
					 or the instance is at a concurrency cap */
	struct claimed_row rows[CLAIM_MAX];
	unsigned claimed;             /* rows this claim took */
	atomic_uint next;             /* the next row a placer takes */
	atomic_uint placed;           /* of them, attempts made (admitted or blocked) */
};

/* The instance's pacing this tick, its bucket found (or made) on first sight. */
static struct pace *pace_of(struct tick *tk, uint64_t sdkappid)
{
	struct api_tasks *tks = tk->tk;
	struct bucket *bk = NULL;
	struct pace *pc;

	for (size_t i = 0; i < tk->n_pace; i++) {
		if (tk->pace[i].sdkappid == sdkappid)
			return &tk->pace[i];
	}
	if (tk->n_pace == MAX_INSTANCES)
		return NULL;
	for (size_t i = 0; i < tks->n_buckets && !bk; i++) {
		if (tks->buckets[i].sdkappid == sdkappid)
			bk = &tks->buckets[i];
	}
	if (!bk && tks->n_buckets < MAX_INSTANCES) {
		bk = &tks->buckets[tks->n_buckets++];
		*bk = (struct bucket){.sdkappid = sdkappid};
	}
	if (!bk)
		return NULL;
	pc = &tk->pace[tk->n_pace++];
	*pc = (struct pace){.sdkappid = sdkappid, .bucket = &bk->b};
	pc->budget = api_pace_earn(&bk->b, tks->core->conf.task_calls_per_s,
				   tks->core->conf.task_tick_ms, clock_mono_ms());
	return pc;
}

/* The calling rules' refusals that make a blocked attempt (records-and-push.md): its
 * EndStatus, or 0 for a refusal that is the configuration's (the task pauses). */
static int blocked_status(enum api_code code)
{
	switch (code) {
	case API_FAILED_OPERATION_CALLEE_IS_BLACK_USER:
		return 108;
	case API_FAILED_OPERATION_CALLOUT_RULE_INTERVAL:
	case API_FAILED_OPERATION_CALLOUT_RULE_DAILY:
	case API_FAILED_OPERATION_CALLER_OVER_FREQUENCY:
		return 109;
	case API_FAILED_OPERATION_CALLOUT_RULE_BLIND_AREA:
		return 110;
	case API_FAILED_OPERATION_CALLOUT_RULE_NOT_WORK_TIME:
		return 111;
	default:
		return 0;
	}
}

/* A blocked attempt: a session born finished, with its record and its push (the CDR
 * body built as inbound refusals build theirs). Takes over s. */
static int blocked_finish(struct store *st, struct store_session *s, int status,
			  const char *why, int64_t now)
{
	struct store_session_end end = {.ended_ts = now, .end_status = status};
	char *body = NULL;
	json_t *cdr;
	int err;

	snprintf(end.hungup_side, sizeof(end.hungup_side), "system");
	snprintf(end.end_reason, sizeof(end.end_reason), "%s", why);
	s->status = STORE_STATUS_FINISHED;
	s->ended_ts = end.ended_ts;
	s->end_status = status;
	snprintf(s->hungup_side, sizeof(s->hungup_side), "%s", end.hungup_side);
	snprintf(s->end_reason, sizeof(s->end_reason), "%s", why);
	cdr = records_cdr(s, NULL, 0, true);
	if (cdr)
		body = json_dumps(cdr, JSON_COMPACT);
	json_decref(cdr);
	err = store_session_create_finished(st, s, &end, body);
	free(body);
	return err;
}

static int place_one(const struct store_callee_row *r, struct attempt *a);

/* A callee whose own zone (the table's) puts it outside the task's windows: given back,
 * due when its window opens. 0 when it may be placed now. */
static int outside_window(const struct store_callee_row *r, struct attempt *a, bool *deferp)
{
	struct api_core *core = a->tk->tk->core;
	const struct tz *tz = zonemap_lookup(a->tk->tk->zones, r->callee);
	int64_t next;

	*deferp = false;
	if (!a->t->windows[0] || !a->tk->tk->zones)
		return 0;
	if (!tz)
		tz = a->tz;
	if (api_window_open(a->t->windows, tz, a->tk->now))
		return 0;
	*deferp = true;
	atomic_fetch_add(&a->tk->deferred, 1);
	if (api_window_next(a->t->windows, tz, a->tk->now, &next))
		next = a->tk->now + 3600;
	return store_task_unclaim(core->st, a->t->task_id, r->seq, next);
}

/* One claimed callee: pushed to its window, admitted and handed to the loop, finished as
 * blocked, or given back. A failure to give a claim back is logged (the claim is
 * recovered at the next start). */
static void place_row(const struct store_callee_row *r, struct attempt *a)
{
	bool defer;
	int err = outside_window(r, a, &defer);

	if (!err && !defer)
		err = place_one(r, a);
	if (err)
		log_warn("tasks", "task %llu callee %u: attempt not placed: %s",
			 (unsigned long long)r->task_id, r->seq, strerror(err));
}

/* The claim's handler: each row is copied, to be placed once the claim is read whole.
 * Returns 0 whatever happens, so that the claim's other rows are kept too. */
static int collect_row(const struct store_callee_row *r, void *arg)
{
	struct attempt *a = arg;
	struct claimed_row *c = &a->rows[a->claimed];
	int err = 0;

	*c = (struct claimed_row){.r = *r};
	snprintf(c->callee, sizeof(c->callee), "%s", r->callee);
	if (r->uui)
		err = str_dup(&c->uui, r->uui);
	if (!err && r->variables)
		err = str_dup(&c->variables, r->variables);
	if (err) {
		mem_deref(c->uui);
		mem_deref(c->variables);
		err = store_task_unclaim(a->tk->tk->core->st, r->task_id, r->seq, a->tk->now);
		if (err)
			log_warn("tasks", "task %llu callee %u: claim not given back: %s",
				 (unsigned long long)r->task_id, r->seq, strerror(err));
		return 0;
	}
	c->r.callee = c->callee;
	c->r.uui = c->uui;
	c->r.variables = c->variables;
	c->r.sessions = "";
	a->claimed++;
	return 0;
}

/* Admission is a store transaction per attempt: one after the other, the rate is bound by
 * the commit's round trip through the writer thread (measured on 2 cores at a load of
 * 20: 56 attempts/s for a configured 200). PLACERS threads take the claim's rows in
 * turn, so that their transactions meet in the writer's group commit (4 threads: 193/s
 * for 500 configured; 8: 482/s). Each admission is CreateIVRSession's, which the API's
 * threads already run concurrently. */
static void *placer(void *arg)
{
	struct attempt *a = arg;

	for (unsigned i; (i = atomic_fetch_add(&a->next, 1)) < a->claimed; )
		place_row(&a->rows[i].r, a);
	return NULL;
}

static void place_rows(struct attempt *a)
{
	pthread_t th[PLACERS - 1];
	unsigned n = 0;

	atomic_store(&a->next, 0);
	while (n < PLACERS - 1 && n + 1 < a->claimed &&
	       !pthread_create(&th[n], NULL, placer, a))
		n++;
	placer(a);
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < a->claimed; i++) {
		mem_deref(a->rows[i].uui);
		mem_deref(a->rows[i].variables);
	}
}

static int place_one(const struct store_callee_row *r, struct attempt *a)
{
	struct api_core *core = a->tk->tk->core;
	const struct store_task *t = a->t;
	/* No rate limit of its own: the scheduler paces attempts ([tasks]). */
	struct api_ctx ctx = {core->st, core->t, &core->hooks, t->account_id, "", 0, NULL, 0,
			      &core->conf, core, 0, "", NULL};
	struct store_session *s = NULL;
	struct api_error e = {0};
	json_t *p = NULL;
	enum api_code rc;
	int status, err;

	ctx.now_ms = clock_unix_ms();
	if (a->hold)
		return store_task_unclaim(core->st, t->task_id, r->seq, a->tk->now);
	p = json_pack("{s:s, s:o}", "Callee", r->callee, "Callers",
		      json_loads(t->callers, 0, NULL));
	err = p ? store_session_alloc(&s, r->uui ? r->uui : t->uui,
				      r->variables ? r->variables : t->variables) : ENOMEM;
	if (!err)
		err = ids_session(s->id);
	if (err) {
		json_decref(p);
		mem_deref(s);
		return store_task_unclaim(core->st, t->task_id, r->seq, a->tk->now);
	}
	s->sdkappid = t->sdkappid;
	s->account_id = t->account_id;
	s->direction = 1;
	s->ivr_id = t->ivr_id;
	s->ivr_version = a->ivr_version;
	s->max_ring_s = t->max_ring_s;
	s->status = STORE_STATUS_RINGING;
	s->created_ms = ctx.now_ms;
	s->start_ts = ctx.now_ms / 1000;
	s->task_id = t->task_id;
	s->task_seq = r->seq;
	s->ai = a->ai;

	rc = api_callout_admit(&ctx, p, s, a->rules, a->inst.ai_channels, &e);
	json_decref(p);
	if (rc == API_OK) {
		a->placed++;
		if (core->hooks.session_created)
			core->hooks.session_created(s, a->inst.record_calls, core->hooks.arg);
		else
			mem_deref(s);
		return 0;
	}
	status = blocked_status(rc);
	if (status) {
		a->placed++;
		log_info("tasks", "task %llu callee %s blocked (EndStatus %d): %s",
			 (unsigned long long)t->task_id, s->callee, status, e.msg);
		return blocked_finish(core->st, s, status, api_code_name(rc), a->tk->now);
	}
	mem_deref(s);
	err = store_task_unclaim(core->st, t->task_id, r->seq, a->tk->now);
	if (rc == API_INTERNAL_ERROR || rc == API_INTERNAL_ERROR_DB_ERROR)
		return err;
	/* Caps that free themselves as calls end (AI licences, the tenant's channels): the
	 * attempt waits for a later tick, nothing is paused. */
	if (rc == API_FAILED_OPERATION_AI_CONCURRENT_OVER_FREQUENCY || rc == API_LIMIT_EXCEEDED) {
		a->hold = true;
		return err;
	}
	/* The configuration's: no try burnt, the task waits for the operator. */
	log_warn("tasks", "task %llu of instance %llu paused: %s: %s",
		 (unsigned long long)t->task_id, (unsigned long long)t->sdkappid,
		 api_code_name(rc), e.msg);
	a->hold = true;
	{
		char reason[256];

		snprintf(reason, sizeof(reason), "%s: %.200s", api_code_name(rc), e.msg);
		store_task_change(core->st, t->sdkappid, t->task_id, STORE_TASK_PAUSE, reason,
				  a->tk->now);
	}
	return err;
}

/* One task's turn: its share of what is left of its instance's budget, claimed in
 * chunks until it is used or nothing more is due. */
static void run_task(struct tick *tk, const struct store_task *t)
{
	struct api_core *core = tk->tk->core;
	struct attempt at = {.tk = tk, .t = t}, *a = &at;
	struct pace *pc = pace_of(tk, t->sdkappid);
	struct store_ivr ivr;
	struct tz *tz = NULL;
	uint64_t calling = 0, room;
	int err;

	if (!pc)
		return;
	room = api_pace_share(pc->budget - pc->started, pc->tasks);
	if (pc->tasks && (pc->budget - pc->started) % pc->tasks)
		tk->odd++;
	pc->tasks--;
	/* A zone that no longer loads (tzdata changed under us) calls nothing. */
	if (t->time_zone[0] && tz_load(&tz, t->time_zone))
		return;
	a->tz = tz;
	if (!tk->tk->zones && !api_window_open(t->windows, tz, tk->now))
		goto out;
	if (store_task_calling(core->st, t->task_id, &calling))
		goto out;
	pc->calling += calling;
	if (pc->calling >= core->conf.task_max_calls)
		goto out;
	if (room > core->conf.task_max_calls - pc->calling)
		room = core->conf.task_max_calls - pc->calling;
	if (t->concurrency)
		room = calling >= t->concurrency ? 0 : (room < t->concurrency - calling ? room :
							t->concurrency - calling);
	if (!room || store_instance_get_rules(core->st, t->sdkappid, t->ivr_id, &a->inst,
					      &a->rules, &ivr) ||
	    a->inst.account_id != t->account_id || !ivr.ivr_id)
		goto out;
	a->ivr_version = ivr.version;
	if (api_flow_uses_ai(core->st, t->sdkappid, t->ivr_id, ivr.version, &a->ai))
		goto out;
	while (room && !atomic_load(&a->hold) && atomic_load(&tk->deferred) < DEFER_MAX) {
		unsigned n = room < CLAIM_MAX ? (unsigned)room : CLAIM_MAX, placed;

		a->claimed = 0;
		atomic_store(&a->placed, 0);
		err = store_task_claim(core->st, t->task_id, tk->now, n, core->conf.node_id,
				       collect_row, a);
		place_rows(a);
		if (err) {
			log_warn("tasks", "task %llu: claim failed: %s",
				 (unsigned long long)t->task_id, strerror(err));
			break;
		}
		/* Counted whatever their outcome (admitted or blocked): the rate is of
		 * attempts. Callees given back (their window, a cap) are not. */
		placed = atomic_load(&a->placed);
		pc->started += placed;
		pc->calling += placed;
		room -= placed;
		if (a->claimed < n)
			break;
	}
out:
	mem_deref(a->rules);
	mem_deref(tz);
}

static int collect(const struct store_task *t, void *arg)
{
	struct tick *tk = arg;
	struct store_task **v = realloc(tk->tasks, (tk->n_tasks + 1) * sizeof(*v));

	if (!v)
		return ENOMEM;
	tk->tasks = v;
	tk->tasks[tk->n_tasks++] = mem_ref((struct store_task *)t);
	return 0;
}

static void tick_destructor(void *arg)
{
	struct tick *tk = arg;

	for (size_t i = 0; i < tk->n_tasks; i++)
		mem_deref(tk->tasks[i]);
	free(tk->tasks);
}

static void tick(struct api_tasks *tks)
{
	struct tick *tk = mem_zalloc(sizeof(*tk), tick_destructor);
	struct api_core *core = tks->core;
	int err;

	if (!tk)
		return;
	tk->tk = tks;
	tk->now = clock_unix_s();
	err = store_tasks_advance(core->st, tk->now);
	if (!err)
		err = store_tasks_running(core->st, collect, tk);
	if (err && err != ENOENT)
		log_warn("tasks", "scheduler tick failed: %s", strerror(err));
	/* Each instance's budget is shared among its running tasks: count them first. */
	for (size_t i = 0; !err && i < tk->n_tasks; i++) {
		struct pace *pc = pace_of(tk, tk->tasks[i]->sdkappid);

		if (pc)
			pc->tasks++;
	}
	/* A share is rounded up, so the first tasks served get the odd calls: the next tick
	 * starts after the last task that got one, and over ticks each gets its part. */
	for (size_t i = 0; !err && i < tk->n_tasks; i++)
		run_task(tk, tk->tasks[(i + tks->turn) % tk->n_tasks]);
	tks->turn += tk->odd;
	/* What was not placed stays in the bucket for the next tick. */
	for (size_t i = 0; i < tk->n_pace; i++)
		api_pace_spend(tk->pace[i].bucket, tk->pace[i].started);
	mem_deref(tk);
}

/* Ticks start every tick_ms from the start of the previous one (a tick that ran late is
 * followed at once by the next, and its calls are earned by the time that passed). */
static void *tasks_main(void *arg)
{
	struct api_tasks *tks = arg;
	int err = store_task_recover(tks->core->st, tks->core->conf.node_id, clock_unix_s());

	if (err)
		log_warn("tasks", "claims of a previous run not recovered: %s", strerror(err));
	pthread_mutex_lock(&tks->lock);
	while (!tks->stopping) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		pthread_mutex_unlock(&tks->lock);
		tick(tks);
		pthread_mutex_lock(&tks->lock);
		ts.tv_sec += tks->core->conf.task_tick_ms / 1000;
		ts.tv_nsec += (long)(tks->core->conf.task_tick_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (!tks->stopping &&
		       pthread_cond_timedwait(&tks->wake, &tks->lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&tks->lock);
	return NULL;
}

static void tasks_destructor(void *arg)
{
	struct api_tasks *tks = arg;

	if (tks->running) {
		pthread_mutex_lock(&tks->lock);
		tks->stopping = true;
		pthread_cond_signal(&tks->wake);
		pthread_mutex_unlock(&tks->lock);
		pthread_join(tks->thread, NULL);
	}
	pthread_cond_destroy(&tks->wake);
	pthread_mutex_destroy(&tks->lock);
	mem_deref(tks->zones);
}

/* The zone table of [tasks] zone_prefix (checked when the file was read; the zones are
 * loaded here, once). */
static int zones_load(struct api_tasks *tks)
{
	const struct api_conf *ac = &tks->core->conf;
	int err;

	if (!ac->task_zones_n)
		return 0;
	err = zonemap_alloc(&tks->zones);
	for (unsigned i = 0; !err && i < ac->task_zones_n; i++)
		err = zonemap_add(tks->zones, ac->task_zones[i].prefix, ac->task_zones[i].zone);
	return err;
}

int api_tasks_start(struct api_tasks **tp, struct api_core *core)
{
	struct api_tasks *tks = mem_zalloc(sizeof(*tks), tasks_destructor);
	int err;

	if (!tks)
		return ENOMEM;
	tks->core = core;
	pthread_mutex_init(&tks->lock, NULL);
	pthread_cond_init(&tks->wake, NULL);
	err = zones_load(tks);
	if (!err)
		err = pthread_create(&tks->thread, NULL, tasks_main, tks);
	if (err) {
		mem_deref(tks);
		return err;
	}
	tks->running = true;
	*tp = tks;
	return 0;
}
