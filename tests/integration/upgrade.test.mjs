// Upgrades (docs/upgrades.md): a database made by the previous release — its own cccd and
// ccc, with tenants, calls, records and pushes (tests/data/schema-v12.*, made by
// tests/data/make-schema-fixture.mjs) — loaded with the sqlite3 CLI and opened by today's
// cccd: the schema is migrated, every row and every table, column and index of the old
// schema is still there, the API answers for the old sessions what the old release
// answered, the old credentials still sign, and a new session places a real call. And the
// store's SQL only adds: DROP and RENAME only as the documented exceptions.
// Everything goes through the binaries and the sqlite3 CLI, not the migration list.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, startCccd, client, sipp, until } from "./lib/cccd.mjs";

const OLD_VERSION = 12;
const DATA = path.join(ROOT, "tests/data");
const fixture = JSON.parse(fs.readFileSync(path.join(DATA, `schema-v${OLD_VERSION}.json`), "utf8"));
const SIP = (n) => path.join(ROOT, "tests/sip", n);

const sql = (db, q) => execFileSync("sqlite3", ["-json", db, q], { encoding: "utf8" }).trim();
const rows = (db, q) => JSON.parse(sql(db, q) || "[]");

// Tables (with their rows and columns) and indexes of a database, as sqlite3 sees them.
function shape(db) {
  const tables = {};
  for (const { name } of rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' " +
    "AND name NOT LIKE 'sqlite_%' ORDER BY name")) {
    tables[name] = {
      count: rows(db, `SELECT count(*) AS n FROM "${name}"`)[0].n,
      columns: rows(db, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info('${name}')`),
    };
  }
  const indexes = rows(db, "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' " +
    "AND name NOT LIKE 'sqlite_%' ORDER BY name");
  const version = rows(db, "PRAGMA user_version")[0].user_version;
  return { tables, indexes, version };
}

// The SDK answers with its model classes; the fixture holds what they serialised to.
const plain = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

let dir, db, old, d, peer, api;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-upgrade-"));
  db = path.join(dir, "cccd.db");
  execFileSync("sqlite3", [db], { input: fs.readFileSync(path.join(DATA, `schema-v${OLD_VERSION}.sql`)) });
  fs.copyFileSync(path.join(DATA, `schema-v${OLD_VERSION}.key`), `${db}.key`);
  fs.chmodSync(`${db}.key`, 0o600);
  old = shape(db);
  assert.equal(old.version, OLD_VERSION, "the fixture loads at the old release's version");
  assert.ok(old.tables.sessions.count >= 3 && old.tables.outbox.count >= 3, "with data in it");

  peer = await sipp(SIP("uas_answer_wait_bye.xml"), { args: ["-m", "1", "-timeout", "60s", "-timeout_error"] });
  d = await startCccd({
    storePath: db,
    // the fixture's rows are dated when it was made: keep them whatever today's date
    pushLines: ["retention_days = 3650"],
    sections: ["[records]", "sip_trace_days = 3650",
      "[trunk peer]", "host = 127.0.0.1", `port = ${peer.port}`, "route = *",
      "options_interval = 0"].join("\n"),
  });
  api = client({ TENCENTCLOUD_SECRET_ID: fixture.secretId, TENCENTCLOUD_SECRET_KEY: fixture.secretKey },
    d.endpoint);
});

after(async () => {
  await d?.close();
  await peer?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("today's cccd upgrades the previous release's database and keeps all of it", async () => {
  await d.waitLog(new RegExp(`schema migrated to version ${OLD_VERSION + 1}\\b`), "migrated");
  const now = shape(db);
  assert.ok(now.version > OLD_VERSION, `schema version ${now.version}`);
  for (let v = OLD_VERSION + 1; v <= now.version; v++)
    assert.match(d.log, new RegExp(`schema migrated to version ${v}\\b`));

  // add-only, as the database shows it: every old table keeps its rows and columns
  for (const [name, t] of Object.entries(old.tables)) {
    assert.ok(now.tables[name], `table ${name} is still there`);
    assert.equal(now.tables[name].count, t.count, `${name}: every row is still there`);
    for (const col of t.columns)
      assert.deepEqual(now.tables[name].columns.find((c) => c.name === col.name), col,
        `${name}.${col.name} unchanged`);
  }
  for (const ix of old.indexes)
    assert.ok(now.indexes.some((i) => i.name === ix.name && i.tbl_name === ix.tbl_name),
      `index ${ix.name} is still there`);
});

test("the old sessions read as the old release answered them, with the old credentials", async () => {
  for (const [id, s] of Object.entries(fixture.sessions)) {
    const r = await api.DescribeTelSession({ SdkAppId: fixture.sdkappid, SessionId: id });
    assert.equal(r.err, undefined, `${r.err} ${r.message}`);
    for (const [k, v] of Object.entries(s))
      assert.deepEqual(plain(r.Session[k]), v, `DescribeTelSession ${id} ${k}`);
  }
  const times = Object.values(fixture.cdrs).map((c) => c.Time);
  const list = await api.DescribeTelCdr({ SdkAppId: fixture.sdkappid,
    StartTimeStamp: Math.min(...times) - 60, EndTimeStamp: Math.max(...times) + 3600,
    PageSize: 100, PageNumber: 0 });
  assert.equal(list.err, undefined, `${list.err} ${list.message}`);
  assert.equal(list.TelCdrList.length, Object.keys(fixture.cdrs).length);
  for (const c of list.TelCdrList) {
    const was = fixture.cdrs[c.SessionId];
    assert.ok(was, `${c.SessionId} was in the old database`);
    // what the old release answered, field by field (today's additions aside)
    for (const [k, v] of Object.entries(was))
      assert.deepEqual(plain(c[k]), v, `DescribeTelCdr ${c.SessionId} ${k}`);
  }
});

test("a new session on the old instance places a real call and ends with its record", async () => {
  const r = await api.CreateIVRSession({ SdkAppId: fixture.sdkappid, Callee: "008613900000400",
    IVRId: 11 });
  assert.equal(r.err, undefined, `${r.err} ${r.message}`);
  const s = await until(async () => {
    const q = await api.DescribeTelSession({ SdkAppId: fixture.sdkappid, SessionId: r.SessionId });
    return q.Session && q.Session.SessionStatus === "finished" ? q.Session : null;
  }, 30000, 200, "the new session to finish");
  assert.ok(s.AcceptTimestamp > 0, "answered");
  const now = Math.floor(Date.now() / 1000);
  const cdr = await api.DescribeTelCdr({ SdkAppId: fixture.sdkappid, StartTimeStamp: now - 600,
    EndTimeStamp: now + 60, PageSize: 10, PageNumber: 0, SessionIds: [r.SessionId] });
  assert.equal(cdr.TelCdrList[0].EndStatus, 1);
  assert.equal(await peer.wait(10000), 0, "the peer's scenario passed");
});

// The documented exceptions: `SQL` on a line starting with "- " under "## Exceptions".
function exceptions() {
  const doc = fs.readFileSync(path.join(ROOT, "docs/upgrades.md"), "utf8");
  const part = doc.split(/^## Exceptions$/m)[1].split(/^## /m)[0];
  return part.split("\n").filter((l) => l.startsWith("- ")).map((l) => /`([^`]+)`/.exec(l))
    .filter(Boolean).map((m) => norm(m[1]));
}
const norm = (s) => s.replace(/\s+/g, " ").trim().toLowerCase();

function sources(d) {
  return fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(d, e.name)) :
      /\.(c|h|cc|sql)$/.test(e.name) ? [path.join(d, e.name)] : []);
}

test("the store's SQL only adds: DROP and RENAME only as documented exceptions", () => {
  const allowed = exceptions();
  const found = [];
  for (const file of sources(path.join(ROOT, "src/store"))) {
    const text = fs.readFileSync(file, "utf8");
    // SQL lives in C string literals: join each statement's pieces as the compiler would
    const strings = [...text.matchAll(/"((?:[^"\\\n]|\\.)*)"/g)].map((m) => m[1]).join(" ");
    for (const m of strings.matchAll(/\b(?:DROP\s+(?:TABLE|INDEX|VIEW|TRIGGER|COLUMN)|RENAME\s+(?:TO|COLUMN))\b[^;]*/gi))
      found.push({ file: path.relative(ROOT, file), stmt: norm(m[0]) });
  }
  const bad = found.filter((f) => !allowed.some((a) => f.stmt.includes(a) || a.includes(f.stmt)));
  assert.deepEqual(bad, [], "a DROP or RENAME not listed under docs/upgrades.md §Exceptions");
});
