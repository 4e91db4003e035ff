/* schema_sqlite: the SQLite layout — its migrations, and PRAGMA user_version holding how
 * many are applied. Every change of the layout is appended here and to schema_pg.c. */
#include <errno.h>
#include <stdio.h>
#include "base/base.h"
#include "store/store_int.h"

static const char *const migrations[] = {
	/* 1: tenancy, IVRs and sessions. */
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"

	"CREATE TABLE credentials ("
	"  secret_id TEXT PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  secret_key_enc BLOB NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL);"

	"CREATE TABLE instances ("
	"  sdkappid INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id),"
	"  name TEXT NOT NULL DEFAULT '',"
	"  edition INTEGER NOT NULL DEFAULT 1,"
	"  package_expires_at INTEGER NOT NULL DEFAULT 0,"
	"  ai_channels INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"

	"CREATE TABLE numbers ("
	"  sdkappid INTEGER NOT NULL REFERENCES instances(sdkappid),"
	"  number TEXT NOT NULL,"
	"  state INTEGER NOT NULL DEFAULT 1,"
	"  outbound INTEGER NOT NULL DEFAULT 1,"
	"  inbound_ivr INTEGER NOT NULL DEFAULT 0,"
	"  last_used_ms INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (sdkappid, number));"

	"CREATE TABLE ivrs ("
	"  sdkappid INTEGER NOT NULL REFERENCES instances(sdkappid),"
	"  ivr_id INTEGER NOT NULL,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  type INTEGER NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  PRIMARY KEY (sdkappid, ivr_id));"

	"CREATE TABLE ivr_versions ("
	"  sdkappid INTEGER NOT NULL,"
	"  ivr_id INTEGER NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  type INTEGER NOT NULL,"
	"  document TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (sdkappid, ivr_id, version));"

	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  sdkappid INTEGER NOT NULL,"
	"  account_id INTEGER NOT NULL,"
	"  direction INTEGER NOT NULL,"
	"  caller TEXT NOT NULL,"
	"  callee TEXT NOT NULL,"
	"  ivr_id INTEGER NOT NULL DEFAULT 0,"
	"  ivr_version INTEGER NOT NULL DEFAULT 0,"
	"  uui TEXT NOT NULL DEFAULT '',"
	"  variables TEXT NOT NULL DEFAULT '[]',"
	"  max_ring_s INTEGER NOT NULL DEFAULT 0,"
	"  request_id TEXT NOT NULL DEFAULT '',"
	"  status INTEGER NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  start_ts INTEGER NOT NULL,"
	"  ring_ts INTEGER NOT NULL DEFAULT 0,"
	"  accept_ts INTEGER NOT NULL DEFAULT 0,"
	"  ended_ts INTEGER NOT NULL DEFAULT 0,"
	"  end_status INTEGER NOT NULL DEFAULT 0,"
	"  hungup_side TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX sessions_callee ON sessions(sdkappid, callee, start_ts);"
	"CREATE INDEX sessions_caller ON sessions(sdkappid, caller, start_ts);"
	"CREATE INDEX sessions_live ON sessions(status) WHERE status <> 3;",

	/* 2: what a call leaves behind — key presses, the IVR path, recordings. */
	"ALTER TABLE sessions ADD COLUMN record_url TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE sessions ADD COLUMN record_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE sessions ADD COLUMN voicemail_urls TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE sessions ADD COLUMN participants TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE sessions ADD COLUMN end_reason TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX sessions_ended ON sessions(sdkappid, ended_ts) WHERE status = 3;"

	"CREATE TABLE key_presses ("
	"  session_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  label TEXT NOT NULL DEFAULT '',"
	"  ts_ms INTEGER NOT NULL,"
	"  node_label TEXT NOT NULL DEFAULT '',"
	"  original TEXT NOT NULL DEFAULT '',"
	"  tts_prompt TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (session_id, seq));"

	"CREATE TABLE session_path ("
	"  session_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  node TEXT NOT NULL,"
	"  label TEXT NOT NULL DEFAULT '',"
	"  result TEXT NOT NULL DEFAULT '',"
	"  ts_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (session_id, seq));",

	/* 3: data push — per-instance configuration (secrets sealed) and the outbox.
	 * Retry schedules are comma-separated delays in ms, NULL for the daemon's default.
	 * outbox.seq is the creation order (AUTOINCREMENT: never reused, even after purges);
	 * lease_ms keeps a claimed row from being claimed again while it is in flight. */
	"CREATE TABLE push_conf ("
	"  sdkappid INTEGER PRIMARY KEY REFERENCES instances(sdkappid),"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  url TEXT NOT NULL,"
	"  auth INTEGER NOT NULL DEFAULT 0,"
	"  username TEXT NOT NULL DEFAULT '',"
	"  token_url TEXT NOT NULL DEFAULT '',"
	"  secret_enc BLOB,"
	"  events INTEGER NOT NULL,"
	"  retry_ms TEXT,"
	"  event_retry_ms TEXT,"
	"  timeout_ms INTEGER NOT NULL DEFAULT 0,"
	"  updated_at INTEGER NOT NULL);"

	"CREATE TABLE outbox ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  id TEXT NOT NULL UNIQUE,"
	"  sdkappid INTEGER NOT NULL,"
	"  session_id TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  replays INTEGER NOT NULL DEFAULT 0,"
	"  next_ms INTEGER NOT NULL,"
	"  lease_ms INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_ms INTEGER NOT NULL,"
	"  done_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX outbox_due ON outbox(next_ms) WHERE state = 0;"
	"CREATE INDEX outbox_session_pending ON outbox(session_id, seq) WHERE state = 0;"
	"CREATE INDEX outbox_session ON outbox(session_id, seq);"
	"CREATE INDEX outbox_created ON outbox(created_ms);"
	"CREATE INDEX outbox_done ON outbox(done_ms) WHERE state <> 0;",

	/* 4: callout rules per instance (policy JSON; '' = the defaults) and number classes
	 * (0 platform: TCCC's carrier rules apply; 1 own: the customer's own numbers). */
	("ALTER TABLE instances ADD COLUMN rules TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE numbers ADD COLUMN class INTEGER NOT NULL DEFAULT 0;"),

	/* 5: transfers — the numbers of the external leg (PSTNSession OutBoundCaller/Callee;
	 * the legs themselves go in sessions.participants, TCCC's ServeParticipants) and the
	 * inputs of a post-call survey (PostIVRKeyPressed). */
	("ALTER TABLE sessions ADD COLUMN outbound_caller TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE sessions ADD COLUMN outbound_callee TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE key_presses ADD COLUMN post INTEGER NOT NULL DEFAULT 0;"),

	/* 6: per-instance call recording (0 off, 1 every answered call). */
	"ALTER TABLE instances ADD COLUMN record INTEGER NOT NULL DEFAULT 0;",

	/* 7: a caller's calls in progress (the concurrency count of every admission) without
	 * walking every session the number ever placed. */
	"CREATE INDEX sessions_caller_live ON sessions(sdkappid, caller, start_ts) "
	"WHERE status <> 3;",

	/* 8: AI licences — a session whose flow has an AI/speech node takes an AI channel
	 * while it is live (counted at admission, docs/callout-rules.md). */
	("ALTER TABLE sessions ADD COLUMN ai INTEGER NOT NULL DEFAULT 0;"
	 "CREATE INDEX sessions_ai_live ON sessions(sdkappid) WHERE ai = 1 AND status <> 3;"),

	/* 9: operator accounts — their credentials may call the operator admin actions
	 * (licences, new tenants) on every instance (docs/admin-api.md). */
	"ALTER TABLE accounts ADD COLUMN operator INTEGER NOT NULL DEFAULT 0;",

	/* 10: the push thread claims per instance, each its share of the requests in flight
	 * (docs/push.md); this index finds an instance's due rows, in order, without reading
	 * the others' (the rowid, seq, is its last column). */
	"CREATE INDEX outbox_instance_due ON outbox(sdkappid, next_ms) WHERE state = 0;",

	/* 11: per-call evidence — the first leg's Call-ID, trunk, final SIP answer, remote
	 * media address and media quality (TelCdrInfo's CccdEvidence, a JSON object; the
	 * transfer legs' ride in participants). */
	"ALTER TABLE sessions ADD COLUMN evidence TEXT NOT NULL DEFAULT '{}';",

	/* 12: the SIP messages of sessions' calls, kept [records] sip_trace_days (deleted by
	 * created_ms), read per session (CccdDescribeSipTrace). */
	("CREATE TABLE sip_messages ("
	 "  session_id TEXT NOT NULL,"
	 "  call_id TEXT NOT NULL,"
	 "  seq INTEGER NOT NULL,"
	 "  sdkappid INTEGER NOT NULL,"
	 "  ts_us INTEGER NOT NULL,"
	 "  tx INTEGER NOT NULL,"
	 "  src TEXT NOT NULL,"
	 "  dst TEXT NOT NULL,"
	 "  message TEXT NOT NULL,"
	 "  created_ms INTEGER NOT NULL,"
	 "  PRIMARY KEY (session_id, call_id, seq));"
	 "CREATE INDEX sip_messages_created ON sip_messages(created_ms);"),

	/* 13: when a session's first INVITE left the dial queue (Unix ms, 0 = still waiting):
	 * after a restart, a session never dialled goes back into the queue, one dialled and
	 * never rung is redialled only while young (docs/architecture.md §Dial queue). */
	"ALTER TABLE sessions ADD COLUMN dialled_ms INTEGER NOT NULL DEFAULT 0;",

	/* 14: per-instance retention of sessions and recordings, in days (-1 = [records]
	 * retention_days, 0 = kept for ever; docs/operations.md §Retention). */
	"ALTER TABLE instances ADD COLUMN retention_days INTEGER NOT NULL DEFAULT -1;",
	/* 15: the oldest schema version a program must know to use this database (0: any
	 * that knows the tables it uses). Migrations only add (docs/upgrades.md), so a
	 * program of the previous release runs on a newer schema; one that changes or drops
	 * what older programs use sets `oldest` to its own number, and they refuse it. */
	"CREATE TABLE schema_compat (oldest INTEGER NOT NULL);"
	"INSERT INTO schema_compat (oldest) VALUES (0);",
	/* 16: nodes and ownership (docs/architecture.md §Nodes): each node's row with its
	 * heartbeat and lease (Unix ms) and, once its lease ran out, who took over its
	 * sessions; a session's owner is the node that admitted it, or took it over. Rows
	 * from before this migration have no owner: the first node to start adopts them. */
	"CREATE TABLE nodes (node_id TEXT PRIMARY KEY, started_ms INTEGER NOT NULL, "
	"heartbeat_ms INTEGER NOT NULL, lease_until_ms INTEGER NOT NULL, "
	"state TEXT NOT NULL DEFAULT 'running', taken_by TEXT NOT NULL DEFAULT '');"
	"ALTER TABLE sessions ADD COLUMN owner_node TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX sessions_owner_live ON sessions (owner_node) WHERE status <> 3;",
	/* 17: several nodes deliver the outbox: a claimed row names the node that leased it,
	 * so a node that restarts drops its own leases, never another live node's
	 * (PostgreSQL also indexes sessions by account there, for the rate limit counted in
	 * the admission transaction; one SQLite node keeps the API's in-memory limiter). */
	"ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';"
	/* Commands for the node that holds a call (HangUpCall sent to another node; with
	 * one SQLite node the table stays empty). */
	"CREATE TABLE commands ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  sdkappid INTEGER NOT NULL,"
	"  session_id TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  claimed_by TEXT NOT NULL DEFAULT '',"
	"  done_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX commands_open ON commands (created_ms) WHERE done_ms = 0;",
	/* 18: prompts uploaded with UploadIvrAudio, converted once to the prompt format and
	 * stored under the prompt folder at `path`; `sha256` of the converted audio refuses
	 * the same content twice in one instance (docs/api-compatibility.md §Prompts). */
	("CREATE TABLE ivr_audio ("
	 "  file_id INTEGER PRIMARY KEY,"
	 "  sdkappid INTEGER NOT NULL,"
	 "  custom_name TEXT NOT NULL,"
	 "  file_name TEXT NOT NULL,"
	 "  status INTEGER NOT NULL,"
	 "  path TEXT NOT NULL,"
	 "  sha256 TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL);"
	 "CREATE UNIQUE INDEX ivr_audio_content ON ivr_audio(sdkappid, sha256);"
	 "CREATE INDEX ivr_audio_created ON ivr_audio(sdkappid, created_at);"),
	/* 19: auto-callout tasks (docs/tasks.md). A task's settings as validated by
	 * CreateAutoCalloutTask (callers and variables as JSON text, windows as seconds of
	 * the day "start-end,..."), its state (ccc-actions §11: 0 created .. 5 paused) and
	 * why cccd paused it. task_callees holds one row per callee: its own UUI and
	 * variables (NULL: the task's), its state, the tries made, when its next try is due
	 * (NULL: none pending) and its attempts' session ids (comma-separated). The
	 * scheduler finds work through task_callees_due (per task, by due time: never a
	 * scan), running tasks through tasks_state, calls in progress through
	 * task_callees_state. An attempt is a normal session that names its task and
	 * callee (sessions.task_id, task_seq; 0 for every other session). */
	"CREATE TABLE tasks ("
	"  task_id INTEGER PRIMARY KEY,"
	"  sdkappid INTEGER NOT NULL,"
	"  account_id INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  description TEXT NOT NULL,"
	"  ivr_id INTEGER NOT NULL,"
	"  not_before INTEGER NOT NULL,"
	"  not_after INTEGER,"
	"  tries INTEGER NOT NULL,"
	"  retry_interval INTEGER NOT NULL,"
	"  max_ring_s INTEGER NOT NULL,"
	"  callers TEXT NOT NULL,"
	"  variables TEXT NOT NULL,"
	"  uui TEXT NOT NULL,"
	"  time_zone TEXT NOT NULL,"
	"  windows TEXT NOT NULL,"
	"  retry_statuses TEXT NOT NULL,"
	"  concurrency INTEGER NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  callee_count INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  ended_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tasks_instance ON tasks(sdkappid, task_id);"
	"CREATE INDEX tasks_state ON tasks(state);"
	"CREATE TABLE task_callees ("
	"  task_id INTEGER NOT NULL REFERENCES tasks(task_id),"
	"  seq INTEGER NOT NULL,"
	"  callee TEXT NOT NULL,"
	"  uui TEXT,"
	"  variables TEXT,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  tries INTEGER NOT NULL DEFAULT 0,"
	"  due INTEGER,"
	"  sessions TEXT NOT NULL DEFAULT '',"
	"  claimed_by TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (task_id, seq));"
	"CREATE INDEX task_callees_due ON task_callees(task_id, due);"
	"CREATE INDEX task_callees_state ON task_callees(task_id, state);"
	"ALTER TABLE sessions ADD COLUMN task_id INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sessions ADD COLUMN task_seq INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX sessions_task ON sessions(task_id, task_seq);",
	/* 20: records at scale (docs/benchmarks.md §Records at scale). DescribeTelCdr's Phones
	 * filter finds a number's finished calls of the range through its own index (caller or
	 * callee, then the end), not by reading every call of the range; its pages come in
	 * their order (EndedTimestamp newest first, then SessionId) from sessions_ended_page,
	 * so a page deep into a day steps over index entries, not sorted rows. Each index ends
	 * with the columns the query reads (id, and status, which SQLite checks again even
	 * though the partial index implies it), so counts and skipped rows never read the
	 * table. On PostgreSQL a big table is locked for writes while these are built: the
	 * operator can build them first with CREATE INDEX CONCURRENTLY under the same names
	 * (docs/upgrades.md). */
	("CREATE INDEX IF NOT EXISTS sessions_ended_caller ON sessions"
	 "(sdkappid, caller, ended_ts, id, status) WHERE status = 3;"
	 "CREATE INDEX IF NOT EXISTS sessions_ended_callee ON sessions"
	 "(sdkappid, callee, ended_ts, id, status) WHERE status = 3;"
	 "CREATE INDEX IF NOT EXISTS sessions_ended_page ON sessions"
	 "(sdkappid, ended_ts DESC, id, status) WHERE status = 3;"),
	/* 21: the web console (docs/console.md): its users per instance (role administrator,
	 * supervisor or viewer; an Argon2id hash in PHC text, '' for a user who signs in by
	 * one-time links only), their sessions and the one-time login links (both kept as the
	 * SHA-256 of the random token, never the token), and the audit log of every change
	 * made through the console. */
	("CREATE TABLE console_users ("
	 "  sdkappid INTEGER NOT NULL,"
	 "  name TEXT NOT NULL,"
	 "  role TEXT NOT NULL,"
	 "  pw_hash TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL,"
	 "  PRIMARY KEY (sdkappid, name));"
	 "CREATE TABLE console_sessions ("
	 "  token_hash TEXT PRIMARY KEY,"
	 "  sdkappid INTEGER NOT NULL,"
	 "  name TEXT NOT NULL,"
	 "  csrf TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL,"
	 "  expires_at INTEGER NOT NULL,"
	 "  last_used_at INTEGER NOT NULL);"
	 "CREATE INDEX console_sessions_user ON console_sessions(sdkappid, name);"
	 "CREATE TABLE console_links ("
	 "  token_hash TEXT PRIMARY KEY,"
	 "  sdkappid INTEGER NOT NULL,"
	 "  name TEXT NOT NULL,"
	 "  expires_at INTEGER NOT NULL,"
	 "  used_at INTEGER NOT NULL DEFAULT 0);"
	 "CREATE TABLE console_audit ("
	 "  id INTEGER PRIMARY KEY,"
	 "  sdkappid INTEGER NOT NULL,"
	 "  at_ms INTEGER NOT NULL,"
	 "  name TEXT NOT NULL,"
	 "  action TEXT NOT NULL,"
	 "  result TEXT NOT NULL,"
	 "  summary TEXT NOT NULL);"
	 "CREATE INDEX console_audit_at ON console_audit(sdkappid, at_ms);"),
	/* 22: records at scale, the second step (docs/benchmarks.md §Records at scale).
	 * call_days: DescribeTelCallInfo's tally, one row per instance, UTC day of the end
	 * (ended_ts / 86400), direction and node, kept by the write that finishes a session
	 * (finish_write, same transaction): the action reads at most 90 days × 2 directions
	 * × the nodes' rows instead of every call of the range. Per node so that two nodes'
	 * writers never wait for (or deadlock on) each other's row; the readers sum the nodes.
	 * Retention and erasure do not touch it: it is billing, not detail (docs/operations.md
	 * §Retention).
	 * The back-fill is one statement over the finished sessions (node ''); on a big
	 * store it reads the whole table (docs/upgrades.md).
	 * The _page indexes: a number's finished calls in the page's order (EndedTimestamp
	 * newest first, then SessionId), so each arm of DescribeTelCdr's Phones page stops
	 * after offset + limit entries instead of reading the number's whole range. */
	("CREATE TABLE call_days ("
	 "  sdkappid INTEGER NOT NULL,"
	 "  day INTEGER NOT NULL,"
	 "  direction INTEGER NOT NULL,"
	 "  node_id TEXT NOT NULL,"
	 "  calls INTEGER NOT NULL,"
	 "  answered INTEGER NOT NULL,"
	 "  talk_s INTEGER NOT NULL,"
	 "  minutes INTEGER NOT NULL,"
	 "  PRIMARY KEY (sdkappid, day, direction, node_id));"
	 "INSERT INTO call_days (sdkappid, day, direction, node_id, calls, answered, talk_s, "
	 "  minutes) "
	 "SELECT sdkappid, ended_ts / 86400, direction, '', count(*), "
	 "  sum(CASE WHEN accept_ts > 0 AND ended_ts >= accept_ts THEN 1 ELSE 0 END), "
	 "  sum(CASE WHEN accept_ts > 0 AND ended_ts >= accept_ts THEN ended_ts - accept_ts "
	 "      ELSE 0 END), "
	 "  sum(CASE WHEN accept_ts > 0 AND ended_ts >= accept_ts "
	 "      THEN (ended_ts - accept_ts + 59) / 60 ELSE 0 END) "
	 "FROM sessions WHERE status = 3 GROUP BY sdkappid, ended_ts / 86400, direction;"
	 "CREATE INDEX IF NOT EXISTS sessions_ended_caller_page ON sessions"
	 "(sdkappid, caller, ended_ts DESC, id, status) WHERE status = 3;"
	 "CREATE INDEX IF NOT EXISTS sessions_ended_callee_page ON sessions"
	 "(sdkappid, callee, ended_ts DESC, id, status) WHERE status = 3;"),
	/* 23: DescribeTelCdr's CccdEndStatus filter (docs/api-compatibility.md): a code's
	 * finished calls of the range, in their page order, from one index range — not by
	 * reading the table row of every call of the range to check its code. It ends with
	 * the columns the query reads, as the indexes of migration 20 do, so the count never
	 * reads the table. */
	("CREATE INDEX IF NOT EXISTS sessions_ended_status ON sessions"
	 "(sdkappid, end_status, ended_ts DESC, id, status) WHERE status = 3;"),
	/* 24: the scheduler's claim takes a task's next due callees in (due, seq) order
	 * (store/task.c). task_callees_due (task_id, due) gives the due order but not the seq
	 * within one due time, and all the callees of a task are due at its NotBefore: the
	 * claim sorted every due callee to take 64 (docs/benchmarks.md §Tasks). This index
	 * gives the claim its rows in order, reading only those it takes. */
	"CREATE INDEX task_callees_next ON task_callees(task_id, due, seq);",
};

static int version_get(struct db_conn *c, int *versionp)
{
	struct db_stmt *s = db_prepare(c, "PRAGMA user_version");
	int rc;

	if (!s)
		return EIO;
	rc = db_step(s);
	*versionp = rc == DB_ROW ? (int)db_col_int64(s, 0) : 0;
	mem_deref(s);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

static int version_set(struct db_conn *c, int version)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
	return db_exec(c, sql);
}

/* BEGIN IMMEDIATE takes the database's write lock: another process migrating waits. */
const struct store_schema store_schema_sqlite = {
	.migrations = migrations,
	.n = (int)(sizeof(migrations) / sizeof(migrations[0])),
	.version = version_get,
	.begin = "BEGIN IMMEDIATE",
	.version_set = version_set,
};
