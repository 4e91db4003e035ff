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
 * Per tick: state changes (store_tasks_advance), then each running task in turn, inside
 * its windows, claims at most what its share of the instance's pacing allows — [tasks]
 * max_calls concurrent attempts per instance, calls_per_second new ones, the task's
 * ConcurrencyLimit — so the cost per attempt does not depend on how many callees wait.
 * A blocked attempt (blacklist, caps, blind area, hours) becomes a finished session with
 * EndStatus 108-111; a refusal that comes from the configuration (no caller number, no
 * route, the edition, the package) pauses the task with the reason instead of burning
 * tries, and the claim is given back. */
#include <errno.h>
#include <pthread.h>
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

enum { MAX_INSTANCES = 256, CLAIM_MAX = 64 };

struct api_tasks {
	struct api_core *core;        /* not owned: it owns us */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	uint64_t last_ms;             /* monotonic time of the last tick */
	uint64_t credit;              /* new calls earned, in thousandths */
};

/* One tick's pacing per instance: what is left of its budgets. */
struct pace {
	uint64_t sdkappid;
	uint64_t calling;             /* its tasks' calls in progress */
	uint64_t started;             /* attempts placed this tick */
};

struct tick {
	struct api_tasks *tk;
	int64_t now;
	struct pace pace[MAX_INSTANCES];
	size_t n_pace;
	unsigned budget;              /* new calls per instance this tick */
};

/* A claimed callee's attempt, with what it needs of its task. */
struct attempt {
	struct tick *tk;
	const struct store_task *t;
	struct store_instance inst;
	uint32_t ivr_version;
	bool ai;                      /* the flow has an AI node: each call takes a licence */
	bool hold;                    /* place no more of this claim: the task paused itself,
					 or the instance is at a concurrency cap */
	unsigned claimed;             /* rows this claim took */
};

static struct pace *pace_of(struct tick *tk, uint64_t sdkappid)
{
	for (size_t i = 0; i < tk->n_pace; i++) {
		if (tk->pace[i].sdkappid == sdkappid)
			return &tk->pace[i];
	}
	if (tk->n_pace == MAX_INSTANCES)
		return NULL;
	tk->pace[tk->n_pace] = (struct pace){.sdkappid = sdkappid};
	return &tk->pace[tk->n_pace++];
}

/* Is `now` inside one of the windows "start-end,..." (seconds of the day in the zone)? An
 * end before the start runs over midnight; no windows = all day. */
static bool window_open(const struct store_task *t, int64_t now)
{
	struct tz *tz = NULL;
	struct tm lt;
	int sod;
	bool open = false;

	if (!t->windows[0])
		return true;
	if (tz_load(&tz, t->time_zone[0] ? t->time_zone : "UTC") || tz_local(tz, now, &lt)) {
		mem_deref(tz);
		return false;
	}
	mem_deref(tz);
	sod = lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec;
	for (const char *p = t->windows; *p && !open; ) {
		char *end;
		long a = strtol(p, &end, 10), b = *end == '-' ? strtol(end + 1, &end, 10) : -1;

		if (b < 0)
			break;
		open = a < b ? (sod >= a && sod < b) : (sod >= a || sod < b);
		p = *end == ',' ? end + 1 : end;
	}
	return open;
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

/* One claimed callee: admitted and handed to the loop, finished as blocked, or given back.
 * Returns 0 whatever happens, so that the claim's other rows are placed too; a failure to
 * give a claim back is logged (the claim is recovered at the next start). */
static int place_one(const struct store_callee_row *r, struct attempt *a);

static int place(const struct store_callee_row *r, void *arg)
{
	struct attempt *a = arg;
	int err;

	a->claimed++;
	err = place_one(r, a);
	if (err)
		log_warn("tasks", "task %llu callee %u: attempt not placed: %s",
			 (unsigned long long)r->task_id, r->seq, strerror(err));
	return 0;
}

static int place_one(const struct store_callee_row *r, struct attempt *a)
{
	struct api_core *core = a->tk->tk->core;
	const struct store_task *t = a->t;
	/* No rate limit of its own: the scheduler paces attempts ([tasks]). */
	struct api_ctx ctx = {core->st, core->t, &core->hooks, t->account_id, "", 0, NULL, 0,
			      &core->conf, NULL, 0};
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

	rc = api_callout_admit(&ctx, p, s, a->inst.ai_channels, &e);
	json_decref(p);
	if (rc == API_OK) {
		if (core->hooks.session_created)
			core->hooks.session_created(s, a->inst.record_calls, core->hooks.arg);
		else
			mem_deref(s);
		return 0;
	}
	status = blocked_status(rc);
	if (status) {
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

static int run_task(const struct store_task *t, void *arg)
{
	struct tick *tk = arg;
	struct api_core *core = tk->tk->core;
	struct attempt a = {.tk = tk, .t = t};
	struct store_ivr ivr;
	struct pace *pc = pace_of(tk, t->sdkappid);
	uint64_t calling = 0, room;
	int err;

	if (!pc || !window_open(t, tk->now))
		return 0;
	err = store_task_calling(core->st, t->task_id, &calling);
	if (err)
		return 0;
	pc->calling += calling;
	if (pc->calling >= core->conf.task_max_calls || pc->started >= tk->budget)
		return 0;
	room = core->conf.task_max_calls - pc->calling;
	if (room > tk->budget - pc->started)
		room = tk->budget - pc->started;
	if (t->concurrency)
		room = calling >= t->concurrency ? 0 : (room < t->concurrency - calling ? room :
							t->concurrency - calling);
	if (room > CLAIM_MAX)
		room = CLAIM_MAX;
	if (!room)
		return 0;
	if (tenant_instance(core->t, t->account_id, t->sdkappid, &a.inst) ||
	    store_ivr_get(core->st, t->sdkappid, t->ivr_id, &ivr))
		return 0;
	a.ivr_version = ivr.version;
	if (api_flow_uses_ai(core->st, t->sdkappid, t->ivr_id, ivr.version, &a.ai))
		return 0;
	err = store_task_claim(core->st, t->task_id, tk->now, (unsigned)room,
			       core->conf.node_id, place, &a);
	if (err)
		log_warn("tasks", "task %llu: claim failed: %s", (unsigned long long)t->task_id,
			 strerror(err));
	/* Counted as placed whatever their outcome: the rate is of attempts. */
	pc->started += a.claimed;
	pc->calling += a.claimed;
	return 0;
}

static void tick(struct api_tasks *tks)
{
	struct tick *tk = mem_zalloc(sizeof(*tk), NULL);
	struct api_core *core = tks->core;
	uint64_t budget, now_ms;
	int err;

	if (!tk)
		return;
	tk->tk = tks;
	tk->now = clock_unix_s();
	/* calls_per_second as credit earned over the time that passed (a tick shorter than
	 * one call's share places nothing and keeps the credit), at most one second's worth:
	 * the rate holds whatever tick_ms is. */
	now_ms = clock_mono_ms();
	tks->credit += (uint64_t)core->conf.task_calls_per_s *
		       (tks->last_ms ? now_ms - tks->last_ms : core->conf.task_tick_ms);
	if (tks->credit > (uint64_t)core->conf.task_calls_per_s * 1000)
		tks->credit = (uint64_t)core->conf.task_calls_per_s * 1000;
	tks->last_ms = now_ms;
	budget = tks->credit / 1000;
	tks->credit -= budget * 1000;
	tk->budget = (unsigned)budget;
	err = store_tasks_advance(core->st, tk->now);
	if (!err)
		err = store_tasks_running(core->st, run_task, tk);
	if (err && err != ENOENT)
		log_warn("tasks", "scheduler tick failed: %s", strerror(err));
	mem_deref(tk);
}

static void *tasks_main(void *arg)
{
	struct api_tasks *tks = arg;
	int err = store_task_recover(tks->core->st, tks->core->conf.node_id, clock_unix_s());

	if (err)
		log_warn("tasks", "claims of a previous run not recovered: %s", strerror(err));
	pthread_mutex_lock(&tks->lock);
	while (!tks->stopping) {
		struct timespec ts;

		pthread_mutex_unlock(&tks->lock);
		tick(tks);
		pthread_mutex_lock(&tks->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
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
	err = pthread_create(&tks->thread, NULL, tasks_main, tks);
	if (err) {
		mem_deref(tks);
		return err;
	}
	tks->running = true;
	*tp = tks;
	return 0;
}
