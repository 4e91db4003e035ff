/* store/task: auto-callout tasks and their callees (docs/tasks.md), in the tables of
 * migration 18. A task is created whole or not at all; its callees are rows that the
 * scheduler claims when due, so waiting callees cost no memory in cccd. Every function
 * returns 0 or an errno value (ENOENT: no such task, or a task of another instance). */
#ifndef CCCD_STORE_TASK_H
#define CCCD_STORE_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* ccc-actions §11, task State. */
enum store_task_state {
	STORE_TASK_CREATED = 0,
	STORE_TASK_RUNNING = 1,
	STORE_TASK_COMPLETED = 2,
	STORE_TASK_ENDING = 3,
	STORE_TASK_STOPPED = 4,
	STORE_TASK_PAUSED = 5,
};

/* ccc-actions §11, AutoCalloutTaskCalleeInfo.State. */
enum store_callee_state {
	STORE_CALLEE_INITIAL = 0,
	STORE_CALLEE_ANSWERED = 1,
	STORE_CALLEE_NOT_ANSWERED = 2,
	STORE_CALLEE_CALLING = 3,
	STORE_CALLEE_RETRY = 4,
};

/* A task row. A mem object: its strings are owned by it (mem strings, "" when empty) and
 * freed with it. */
struct store_task {
	uint64_t task_id;
	uint64_t sdkappid;
	uint64_t account_id;
	uint64_t ivr_id;
	char *name;
	char *description;
	char *callers;          /* JSON array of numbers, as validated */
	char *variables;        /* JSON array of {"Key","Value"}; "[]" when none */
	char *uui;
	char *time_zone;        /* IANA name; "" = UTC */
	char *windows;          /* "start-end,..." in seconds of the day; "" = all day */
	char *retry_statuses;   /* EndStatus codes that allow a retry, "202,206"; "" = default */
	int64_t not_before;     /* Unix s */
	int64_t not_after;      /* Unix s; 0 = none */
	uint32_t tries;         /* 1-3 */
	uint32_t retry_interval; /* s */
	uint32_t max_ring_s;    /* 0 = the trunk's default */
	uint32_t concurrency;   /* ConcurrencyLimit; 0 = the instance limit only */
	uint32_t callee_count;
	enum store_task_state state;
	char reason[256];       /* why cccd paused the task itself ("" otherwise) */
	int64_t created_at;
	int64_t ended_at;       /* 0 while not ended */
};

/* A new, empty task: every string "" (variables "[]"). */
int store_task_alloc(struct store_task **tp);

/* One callee given to CreateAutoCalloutTask; uui and variables NULL = the task's. */
struct store_task_callee {
	const char *callee;
	const char *uui;
	const char *variables;
};

/* Inserts t (its task_id, state and callee_count are set here) with its n callees in one
 * transaction; *idp gets the new TaskId. Every callee is due at t->not_before. Blocks. */
int store_task_create(struct store *st, struct store_task *t,
		      const struct store_task_callee *callees, size_t n, uint64_t *idp);

/* The task of instance sdkappid (another instance's is ENOENT), a new object in *tp. */
int store_task_get(struct store *st, uint64_t sdkappid, uint64_t task_id,
		   struct store_task **tp);

/* The instance's tasks by TaskId, `limit` of them from `offset`, each handed to h (a
 * non-zero return stops the walk); *totalp gets how many the instance has. */
typedef int (store_task_h)(const struct store_task *t, void *arg);
int store_tasks_list(struct store *st, uint64_t sdkappid, uint64_t offset, uint64_t limit,
		     store_task_h *h, void *arg, uint64_t *totalp);

/* One callee row as read. Strings are valid during the call only. */
struct store_callee_row {
	uint64_t task_id;
	uint32_t seq;           /* 0-based position in the task's Callees */
	const char *callee;
	enum store_callee_state state;
	uint32_t tries;         /* tries made (claimed) */
	int64_t due;            /* Unix s of the next try; 0 = none pending */
	const char *sessions;   /* the attempts' SessionIds, comma-separated */
	const char *uui;        /* claims only: the callee's own UUI, NULL = the task's */
	const char *variables;  /* claims only: its own Variables, NULL = the task's */
};

typedef int (store_callee_h)(const struct store_callee_row *r, void *arg);

/* The task's callees in order. */
int store_task_callees(struct store *st, uint64_t task_id, store_callee_h *h, void *arg);

/* User actions (Pause/Resume/StopAutoCalloutTask). EPERM when the task's state does not
 * allow it (UnsupportedOperation). Pause: created or running → paused, with `reason`
 * ("" for a user's pause). Resume: paused → running, or created while before NotBefore.
 * Stop: any state but completed or stopped → stopped; callees never called keep state 0
 * and those waiting to retry become not answered, none is due any more; calls in progress
 * finish and keep their outcome. */
enum store_task_op { STORE_TASK_PAUSE, STORE_TASK_RESUME, STORE_TASK_STOP };
int store_task_change(struct store *st, uint64_t sdkappid, uint64_t task_id,
		      enum store_task_op op, const char *reason, int64_t now);

/* Claims at most `max` callees of a running task that are due at `now`, in due order (none
 * once the task is paused or stopped: Pause and Stop take effect at once): each becomes
 * calling, its tries count one more and it is due no more, all in one statement (on
 * PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so that several nodes never claim
 * one callee). `node` is written into claimed_by. h gets each claimed row (state
 * calling, tries counting this one) after the commit. Blocks. */
int store_task_claim(struct store *st, uint64_t task_id, int64_t now, unsigned max,
		     const char *node, store_callee_h *h, void *arg);

/* Gives a claimed callee back when its attempt could not be stored (a configuration
 * refusal, a store error): the try is not counted and it is due again at `due`. */
int store_task_unclaim(struct store *st, uint64_t task_id, uint32_t seq, int64_t due);

/* At start: this node's claims whose session never reached the store (it stopped between
 * claim and admission) are given back, due at `now`. A claim whose session was stored is
 * left to the session's own end (its outcome reaches the callee then). */
int store_task_recover(struct store *st, const char *node, int64_t now);

/* One tick's state changes: created → running at NotBefore; at NotAfter nothing more is
 * due and the task is ending; ending with no call left → stopped; running with no call
 * left and nothing due → completed. */
int store_tasks_advance(struct store *st, int64_t now);

/* The running tasks, by TaskId. */
int store_tasks_running(struct store *st, store_task_h *h, void *arg);

/* How many of the task's callees are calling. */
int store_task_calling(struct store *st, uint64_t task_id, uint64_t *np);

/* The outcome of an attempt reaches its callee when its session finishes
 * (store_session_finish / _create_finished): answered (EndStatus 1), waiting to retry
 * until the end + RetryInterval (a retryable EndStatus — the task's RetryHangupTypes, or
 * by default 202, 204-208, 210, 212, 213, 215-219, 221, 234; never 203, the callee's
 * refusal — tries left, and the task running or paused), otherwise not answered. */

#endif
