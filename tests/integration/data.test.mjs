// Data over time (docs/operations.md): retention, erasure and backups, with a real cccd
// placing real calls to a sipp phone.
// - Retention: finished sessions older than their instance's period go with every row
//   about them (key presses, path, SIP messages, pushes) and their recording files; recent
//   ones and another instance's (kept for ever) stay.
// - Erasure: CccdErasePhoneNumber deletes one number's sessions and everything about them
//   in one instance, answers the counts, and refuses while a session of it is unfinished.
// - Backups: `ccc admin backup` while cccd takes CreateIVRSession requests and finishes
//   calls; the copy, restored in a fresh directory, starts a cccd that has every session
//   acknowledged before the backup began, and passes PRAGMA integrity_check (SQLite only:
//   PostgreSQL is backed up with pg_dump, docs/operations.md).
// Runs on SQLite or, with CCCD_STORE=postgresql, on PostgreSQL: old rows are made old with
// SQL both run (d.sql, d.rows; times computed here) while cccd is stopped (retention runs
// at start).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT, CCC, startCccd, client, sipp, until, sleep, httpListen, finished } from "./lib/cccd.mjs";
import { STORE } from "./lib/pg.mjs";

const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));
const A = 1400007000, B = 1400007001;
const DAY = 86400;
const nowS = () => Math.floor(Date.now() / 1000);
const TABLES = [["sessions", "id"], ["key_presses", "session_id"], ["session_path", "session_id"],
  ["sip_messages", "session_id"], ["outbox", "session_id"]];
// Rows per table of one session, in one query: each query is a psql or sqlite3 process
// run synchronously, and this process also answers cccd's pushes — polling with many
// blocked the receiver long enough for pushes to time out on PostgreSQL.
const rowsOf = (id) => d.rows("SELECT " + TABLES.map(([t, col]) =>
  `(SELECT count(*) FROM ${t} WHERE ${col} = '${id}') AS ${t}`).join(", "))[0];
const total = (r) => Object.values(r).reduce((a, b) => a + b, 0);

let d, phone, server, credsA, credsB, apiA, apiB;

// Any action through the SDK's common client, the answer as sent (the SDK's models drop
// cccd's own actions and fields).
function rawClient(creds, endpoint) {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod: "TC3-HMAC-SHA256",
      httpProfile: { protocol: "http://", endpoint, reqMethod: "POST", reqTimeout: 30 } });
  return (action, req) => new Promise((resolve) => {
    const out = { deserialize(data) { Object.assign(this, data); } };
    c.request(action, req, out, (err, resp) => {
      if (err) return resolve({ err: err.code || String(err), message: err.message });
      delete resp.deserialize;
      resolve(resp);
    });
  });
}

before(async () => {
  const receiver = await httpListen((req, body, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0}');
  });
  server = receiver.server;
  phone = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"));
  d = await startCccd({ trunkPort: phone.port,
    sections: "[records]\nretention_days = 0\nsip_trace_days = 7\n" });
  for (const id of [A, B]) {
    const creds = d.tenant(["--sdkappid", String(id), "--ivr", "1:autoOutbound",
      "--number", "008601012345678", "--rules", "demo"]);
    if (id === A) credsA = creds;
    else credsB = creds;
    d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(id),
      "--url", `http://127.0.0.1:${receiver.port}/push`, "--events", "cdr"]);
  }
  apiA = client(credsA, d.endpoint);
  apiB = client(credsB, d.endpoint);
});

after(async () => {
  await d?.close();
  await phone?.stop();
  server?.close();
});

// One finished call, with everything it leaves: its CDR push delivered and its SIP
// messages written (they linger some seconds after the end, call/trace.c).
async function call(api, sdkappid, callee) {
  const r = await api.CreateIVRSession({ SdkAppId: sdkappid, IVRId: 1, Callee: callee });
  assert.ok(r.SessionId, JSON.stringify(r));
  await finished(api, sdkappid, r.SessionId);
  await until(() => {
    const n = d.rows("SELECT (SELECT count(*) FROM sip_messages WHERE session_id = " +
      `'${r.SessionId}') AS sip, (SELECT count(*) FROM outbox WHERE session_id = ` +
      `'${r.SessionId}' AND state <> 0) AS pushed, (SELECT count(*) FROM outbox WHERE ` +
      `session_id = '${r.SessionId}' AND state = 0) AS pending`)[0];
    return n.sip > 0 && n.pushed > 0 && n.pending === 0;
  }, 30000, 500, "the CDR push and the SIP messages");
  return r.SessionId;
}

function recording(sdkappid, id) {
  const file = path.join(d.dir, "recordings", String(sdkappid), `${id}.wav`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "RIFF");
  d.sql(`UPDATE sessions SET record_url = '${sdkappid}/${id}.wav' WHERE id = '${id}'`);
  return file;
}

test("retention deletes old finished sessions of an instance with all their rows, nothing else", async () => {
  const [oldA0, oldA1, recentA, oldB] = await Promise.all([call(apiA, A, "008613800100001"),
    call(apiA, A, "008613800100002"), call(apiA, A, "008613800100003"),
    call(apiB, B, "008613800100004")]);
  const oldA = [oldA0, oldA1];
  assert.equal(await d.stop(), 0);

  // Two of A's sessions and B's ended 100 days ago; A keeps 30 days, B the default (for ever).
  for (const id of [...oldA, oldB])
    d.sql(`UPDATE sessions SET ended_ts = ended_ts - ${100 * DAY} WHERE id = '${id}'`);
  d.sql(`INSERT INTO key_presses (session_id, seq, key, ts_ms) VALUES ('${oldA[0]}', 0, '1', 0), ` +
    `('${recentA}', 0, '1', 0)`);
  const fileOld = recording(A, oldA[0]), fileRecent = recording(A, recentA);
  const out = d.ccc(["admin", "--config", d.confPath, "instance-set", "--sdkappid", String(A),
    "--retention-days", "30"]);
  assert.match(out, /retention days 30\n$/);
  let bad = null;
  try {
    execFileSync(CCC, ["admin", "--config", d.confPath, "instance-set", "--sdkappid", String(A),
      "--retention-days", "-2"], { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    bad = e;
  }
  assert.equal(bad?.status, 2);
  assert.match(String(bad.stderr), /bad --retention-days '-2' \(-1 to 36500\)/);
  const before = Object.fromEntries([...oldA, recentA, oldB].map((id) => [id, rowsOf(id)]));
  for (const id of oldA) assert.ok(before[id].sip_messages > 0 && before[id].outbox > 0,
    `${id} has SIP messages and pushes: ${JSON.stringify(before[id])}`);

  await d.start();
  await d.waitLog(new RegExp(`retention: instance ${A}, older than 30 days: 2 sessions`),
    "A's two old sessions deleted", 15000);
  for (const id of oldA) assert.equal(total(rowsOf(id)), 0, `${id} has rows left`);
  assert.deepEqual(rowsOf(recentA), before[recentA]);
  assert.deepEqual(rowsOf(oldB), before[oldB]);
  assert.ok(!fs.existsSync(fileOld), "the old session's recording is deleted");
  assert.ok(fs.existsSync(fileRecent), "the recent session's recording stays");
  const k = oldA.reduce((s, id) => s + before[id].key_presses, 0);
  const p = oldA.reduce((s, id) => s + before[id].session_path, 0);
  const m = oldA.reduce((s, id) => s + before[id].sip_messages, 0);
  const o = oldA.reduce((s, id) => s + before[id].outbox, 0);
  await d.waitLog(new RegExp(`2 sessions \\(${k} key presses, ${p} path steps, ${m} SIP ` +
    `messages, ${o} pushes\\), 1 recordings deleted`), "the counts logged");
  const r = await apiA.DescribeTelSession({ SdkAppId: A, SessionId: oldA[0] });
  assert.match(String(r.err), /SessionNotExists/);
  const desc = await rawClient(credsA, d.endpoint)("CccdDescribeInstance", { SdkAppId: A });
  assert.equal(desc.RetentionDays, 30);

  // An operator sets it over the API too: -1 (the default) to 36500; a tenant may not.
  const op = rawClient(Object.fromEntries(d.ccc(["admin", "--config", d.confPath, "operator-add"])
    .trim().split("\n").map((l) => l.split("="))), d.endpoint);
  const set = await op("CccdModifyInstance", { SdkAppId: B, RetentionDays: 45 });
  assert.equal(set.RetentionDays, 45, JSON.stringify(set));
  assert.equal((await op("CccdModifyInstance", { SdkAppId: B, RetentionDays: -1 })).RetentionDays, -1);
  assert.equal((await op("CccdModifyInstance", { SdkAppId: B, RetentionDays: -2 })).err,
    "InvalidParameterValue");
  assert.equal((await rawClient(credsB, d.endpoint)("CccdModifyInstance",
    { SdkAppId: B, RetentionDays: 1 })).err, "UnauthorizedOperation");
});

test("CccdErasePhoneNumber erases one number's sessions in one instance and says what went", async () => {
  const eraseA = (req) => rawClient(credsA, d.endpoint)("CccdErasePhoneNumber", req);
  const eraseB = (req) => rawClient(credsB, d.endpoint)("CccdErasePhoneNumber", req);
  const X = "008613900200001", Y = "008613900200002";
  const [x0, x1, ya, xb] = await Promise.all([call(apiA, A, X), call(apiA, A, "+86 139-0020-0001"),
    call(apiA, A, Y), call(apiB, B, X)]);
  const xs = [x0, x1];
  const file = recording(A, xs[0]);
  const before = Object.fromEntries([...xs, ya, xb].map((id) => [id, rowsOf(id)]));

  // An unfinished session of the number: nothing is erased.
  const live = "f".repeat(32);
  d.sql("INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, status, " +
    `created_ms, start_ts) SELECT '${live}', ${A}, account_id, 0, '008601012345678', '${X}', 2, 0, ` +
    `${nowS()} FROM instances WHERE sdkappid = ${A}`);
  const refused = await eraseA({ SdkAppId: A, PhoneNumber: X });
  assert.equal(refused.err, "FailedOperation.SessionsInProgress", JSON.stringify(refused));
  assert.match(refused.message, /nothing was erased/);
  for (const id of xs) assert.deepEqual(rowsOf(id), before[id]);
  assert.ok(fs.existsSync(file));

  // Just ended: its SIP messages may still be on their way; nothing is erased yet either.
  d.sql(`UPDATE sessions SET status = 3, ended_ts = ${nowS()} WHERE id = '${live}'`);
  const early = await eraseA({ SdkAppId: A, PhoneNumber: X });
  assert.equal(early.err, "FailedOperation.SessionsInProgress", JSON.stringify(early));
  for (const id of xs) assert.deepEqual(rowsOf(id), before[id]);

  // A minute later, the whole number goes — in the national form too (normalised).
  for (const id of [...xs, ya, xb, live])
    d.sql(`UPDATE sessions SET ended_ts = ended_ts - 60 WHERE id = '${id}'`);
  const r = await eraseA({ SdkAppId: A, PhoneNumber: "13900200001" });
  assert.ok(!r.err, JSON.stringify(r));
  const sum = (t) => xs.reduce((s, id) => s + before[id][t], 0);
  assert.deepEqual({ ...r, RequestId: 0 }, {
    SdkAppId: A, PhoneNumber: X, Sessions: 3, KeyPresses: sum("key_presses"),
    PathSteps: sum("session_path"), SipMessages: sum("sip_messages"), Pushes: sum("outbox"),
    Recordings: 1, RequestId: 0 });
  assert.ok(r.SipMessages > 0 && r.Pushes >= 2, "the calls' SIP messages and pushes went too");
  for (const id of [...xs, live]) assert.equal(total(rowsOf(id)), 0, `${id} has rows left`);
  assert.ok(!fs.existsSync(file), "its recording is deleted");
  assert.deepEqual(rowsOf(ya), before[ya], "another number's session stays");
  assert.deepEqual(rowsOf(xb), before[xb], "another instance's session of it stays");

  // Tenant-scoped: B cannot erase in A; a malformed number is named.
  const other = await eraseB({ SdkAppId: A, PhoneNumber: Y });
  assert.match(String(other.err), /InstanceNotExist/);
  assert.deepEqual(rowsOf(ya), before[ya]);
  const bad = await eraseA({ SdkAppId: A, PhoneNumber: "12ab" });
  assert.equal(bad.err, "InvalidParameterValue");
  const again = await eraseA({ SdkAppId: A, PhoneNumber: X });
  assert.equal(again.Sessions, 0);
});

test("restore drill: a backup taken under load restores every session acknowledged before it", {
  skip: STORE === "postgresql" && "SQLite's online backup (ccc admin backup); PostgreSQL is " +
    "backed up with pg_dump (docs/operations.md, Backups)" }, async () => {
  const acked = [];
  let snapshot = null, backup = null;
  const out = path.join(d.dir, "backup", "cccd.db");
  fs.mkdirSync(path.dirname(out));
  // 45 requests at about 12 per second; the backup starts after the 20th.
  const sends = [];
  for (let i = 0; i < 45; i++) {
    sends.push(apiA.CreateIVRSession({ SdkAppId: A, IVRId: 1,
      Callee: `0086138003${String(i).padStart(5, "0")}` }).then((r) => {
      if (r.SessionId) acked.push(r.SessionId);
    }));
    if (i === 20) {
      snapshot = [...acked];
      backup = new Promise((resolve) => execFile(CCC, ["admin", "--config", d.confPath, "backup",
        "--out", out], { cwd: ROOT, encoding: "utf8" },
      (err, stdout, stderr) => resolve({ err, stdout, stderr })));
    }
    await sleep(80);
  }
  await Promise.all(sends);
  const b = await backup;
  assert.ifError(b.err, b.stderr);
  assert.match(b.stdout, /integrity check ok/);
  assert.ok(snapshot.length >= 10, `${snapshot.length} acknowledged before the backup`);
  assert.ok(acked.length > snapshot.length);
  // A backup never overwrites: the same --out again is refused.
  let again = null;
  try {
    execFileSync(CCC, ["admin", "--config", d.confPath, "backup", "--out", out],
      { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    again = e;
  }
  assert.equal(again?.status, 1);
  assert.match(again.stderr, /exists already/);

  // Restore: the copy and the master key into a fresh directory, and a cccd on it.
  const restored = fs.mkdtempSync(path.join(d.dir, "restored-"));
  const rdb = path.join(restored, "cccd.db");
  fs.copyFileSync(out, rdb);
  fs.copyFileSync(path.join(d.dir, "cccd.db.key"), `${rdb}.key`);
  fs.chmodSync(`${rdb}.key`, 0o600);
  assert.equal(execFileSync("sqlite3", [rdb, "PRAGMA integrity_check"], { encoding: "utf8" }).trim(),
    "ok");
  const r = await startCccd({ storePath: rdb });
  try {
    const api = client(credsA, r.endpoint);
    for (const id of snapshot) {
      const s = await api.DescribeTelSession({ SdkAppId: A, SessionId: id });
      assert.ok(s.Session, `${id}: ${JSON.stringify(s)}`);
    }
  } finally {
    await r.close();
  }
});
