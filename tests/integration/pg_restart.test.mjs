// PostgreSQL restarted under cccd (issue #14, docs/postgresql.md §A lost connection): a
// crash of the database server (pg_ctl stop -m immediate, then start) cuts every
// connection cccd has — the writer's and the readers'. Requests meanwhile answer within a
// bounded time (InternalError while the server is away, never a hang), a session
// acknowledged before is still there, and cccd connects again by itself: requests succeed
// afterwards without restarting it. The file runs its own PostgreSQL cluster
// (tests/pg/pg-tmp.sh) whatever CCCD_STORE says: restarting the shared one would cut the
// other files' cccds.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startCccd, client, until, freePort } from "./lib/cccd.mjs";
import { pgOwnCluster, pgDatabase } from "./lib/pg.mjs";

const SDKAPPID = 1400014000;
let pg, d, api;

before(async () => {
  pg = pgOwnCluster();
  // The trunk is a port nobody answers: the calls ring out unanswered; the test is about
  // the store.
  d = await startCccd({ pgDb: pgDatabase(pg), storeLines: ["busy_timeout_ms = 2000"],
    trunkPort: await freePort() });
  api = client(d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", "1:autoOutbound",
    "--number", "008601012345678", "--rules", "demo"]), d.endpoint);
});

after(async () => {
  await d?.close();
  pg?.stop();
});

const create = (i) => api.CreateIVRSession({ SdkAppId: SDKAPPID, IVRId: 1,
  Callee: `00861380013${String(i).padStart(4, "0")}` });

test("a crash and restart of PostgreSQL: bounded errors meanwhile, nothing acknowledged lost, cccd reconnects by itself", async () => {
  const before = await create(0);
  assert.equal(before.err, undefined, before.message);
  assert.match(d.log, /postgresql: connected to database/);

  pg.restart();

  // Every request answers, in time; once the server is back they succeed again (the
  // first ones after the restart may meet a connection that died: InternalError).
  let i = 1, ok = null;
  const errors = [];
  await until(async () => {
    const t0 = Date.now();
    const r = await create(i++);
    assert.ok(Date.now() - t0 < 15000, "a request answered within 15 s");
    if (r.err) {
      errors.push(r.err);
      return null;
    }
    ok = r;
    return r;
  }, 30000, 200, "CreateIVRSession to succeed after the restart");
  for (const e of errors) assert.match(e, /^InternalError/, errors.join(", "));
  console.log(`after the restart: ${errors.length} request(s) refused, then success; cccd's store log:\n` +
    d.log.split("\n").filter((l) => / store: /.test(l) && !/schema migrated/.test(l)).join("\n"));

  // Both sessions are there, read through the readers (also reconnected).
  for (const s of [before, ok]) {
    const got = await until(async () => {
      const r = await api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: s.SessionId });
      return r.err ? null : r;
    }, 10000, 200, "DescribeTelSession after the restart");
    assert.ok(got.Session, JSON.stringify(got));
  }
  assert.equal(d.sql(`SELECT count(*) FROM sessions WHERE id IN ('${before.SessionId}', '${ok.SessionId}')`), "2");
  assert.doesNotMatch(d.log, new RegExp(pg.passwordFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "|" +
    (await import("node:fs")).readFileSync(pg.passwordFile, "utf8").trim()), "the password is never logged");
});
