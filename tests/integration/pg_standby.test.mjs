// The PostgreSQL standby promoted under load (issue #14, docs/cluster.md §The PostgreSQL
// standby): a primary and its synchronous streaming standby (tests/pg/pg-tmp.sh
// start-pair), two cccd nodes whose DSN names both servers with
// target_session_attrs=read-write, and a steady stream of CreateIVRSession to both nodes
// (callees answered 486 by sipp, so every session finishes at once). Mid-stream the
// primary is crashed (pg_ctl stop -m immediate) and, GAP_MS later — longer than the
// nodes' lease, as an operator's or a failover manager's promotion is — the standby is
// promoted. Meanwhile every request answers within BOUND_MS (InternalError while no
// server takes writes, never a hang); after the promotion creates succeed again on both
// nodes without restarting them; every session acknowledged before, during or after is on
// the promoted server, finished, with its one final record and its one CDR push (the
// outbox reconnected too); the LISTEN connections are made again; neither node took the
// other over for a lease that ran out only because the database was away; and the
// heartbeats land again. The file runs its own pair of servers whatever CCCD_STORE says.
// The outage window (crash -> first success), the refused requests and the slowest answer
// are printed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { client, httpListen, sipp, sleep, until } from "./lib/cccd.mjs";
import { startNodes } from "./lib/nodes.mjs";
import { pgOwnPair, pgDatabase, psql } from "./lib/pg.mjs";

const ROOT = path.resolve(new URL("../..", import.meta.url).pathname);
const SDK = 1400014100;
const LEASE_MS = 2000;
const GAP_MS = 3000;      // crash -> promote: longer than the lease
const BOUND_MS = 20000;   // no request answers later than this (ASan on a loaded machine: 8 s)
const PERIOD_MS = 120;    // per node: ~16 creates/s in all, under the account's 20/s
let pair, cl, phone, receiver;
const pushes = [];

before(async () => {
  pair = pgOwnPair();
  receiver = await httpListen((req, body, res) => {
    pushes.push({ id: req.headers["x-tccc-push-uuid"], body });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0}');
  });
  phone = await sipp(path.join(ROOT, "tests/sip/uas_busy.xml"));
  cl = await startNodes(2, { db: pgDatabase(pair), leaseMs: LEASE_MS, trunkPort: phone.port,
    storeLines: ["busy_timeout_ms = 2000"] });
});

after(async () => {
  try {
    for (const d of cl?.nodes || []) await d.close();
  } finally {
    cl?.cleanup();
    await phone?.stop();
    receiver?.server.close();
    pair?.stop();
  }
});

test("the standby promoted under load: bounded errors in the gap, nothing acknowledged lost, the nodes reconnect by themselves",
  { timeout: 180000 }, async () => {
  const creds = cl.nodes[0].tenant(["--sdkappid", String(SDK), "--ivr", "1:autoOutbound",
    "--number", "008601012345678", "--rules", "demo"]);
  cl.nodes[0].ccc(["push", "config", "--config", cl.nodes[0].confPath, "--sdkappid", String(SDK),
    "--url", `http://127.0.0.1:${receiver.port}/push`, "--events", "cdr"]);
  const apis = cl.nodes.map((d) => client(creds, d.endpoint));
  const results = [];
  let stopping = false, seq = 0, tCrash = 0, tPromoted = 0;

  // One stream per node, one request at a time, every PERIOD_MS at most.
  const stream = async (n) => {
    while (!stopping) {
      const i = seq++, t0 = Date.now();
      const r = await apis[n].CreateIVRSession({ SdkAppId: SDK, IVRId: 1,
        Callee: `00861380013${String(i).padStart(4, "0")}` });
      const t1 = Date.now();
      results.push({ n, t0, t1, id: r.SessionId, err: r.err, message: r.message });
      await sleep(Math.max(0, PERIOD_MS - (t1 - t0)));
    }
  };
  const streams = [stream(0), stream(1)];

  const okAfter = (t, n) => results.filter((r) => r.id && r.t0 >= t && (n === undefined || r.n === n));
  await until(() => okAfter(0).length >= 20, 20000, 50, "creates to flow");
  const tCrashing = Date.now();
  await pair.crashPrimary();
  tCrash = Date.now(); // pg_ctl stop -m immediate -w has returned: the primary is gone
  await sleep(Math.max(0, GAP_MS - (Date.now() - tCrash)));
  await pair.promote();
  tPromoted = Date.now();
  // Both nodes create again, then a little more of the stream.
  await until(() => okAfter(tPromoted, 0).length >= 5 && okAfter(tPromoted, 1).length >= 5,
    30000, 100, "creates to succeed on both nodes after the promotion");
  await sleep(1000);
  stopping = true;
  await Promise.all(streams);

  const errors = results.filter((r) => r.err);
  const slowest = Math.max(...results.map((r) => r.t1 - r.t0));
  const firstOk = Math.min(...okAfter(tCrash).map((r) => r.t1));
  console.log(`# ${results.length} requests, ${results.filter((r) => r.id).length} acknowledged; ` +
    `${errors.length} refused (${[...new Set(errors.map((r) => r.err))].join(", ")}); ` +
    `slowest answer ${slowest} ms; crash -> promoted ${tPromoted - tCrash} ms; ` +
    `outage window (crash -> first success) ${firstOk - tCrash} ms; promoted -> first success ` +
    `${firstOk - tPromoted} ms`);
  for (const [i, d] of cl.nodes.entries())
    console.log(`# node${i + 1}'s store log:\n` + d.log.split("\n")
      .filter((l) => / (store|cluster): /.test(l) && !/schema migrated/.test(l)).join("\n"));

  assert.ok(slowest < BOUND_MS, `a request took ${slowest} ms`);
  for (const r of errors) assert.match(r.err, /^InternalError/, `${r.err}: ${r.message}`);
  assert.ok(errors.length > 0, "requests in the gap were refused");
  for (const r of errors) assert.ok(r.t1 >= tCrashing, `refused before the crash: ${r.err} ${r.message}`);

  // Every acknowledged session is on the promoted server (the pair DSN reaches it now; the
  // old primary is down), finished, with its final record.
  const acked = results.filter((r) => r.id).map((r) => r.id);
  assert.equal(psql("SELECT pg_is_in_recovery()", cl.db.name, pair).trim(), "f");
  const list = acked.map((id) => `'${id}'`).join(",");
  // On a failure, what the store and the logs say of the sessions concerned.
  const explain = (ids) => {
    const l = ids.map((id) => `'${id}'`).join(",");
    console.log(`# sessions: ${JSON.stringify(cl.nodes[0].rows("SELECT id, status, owner_node, " +
      `ring_ts, ended_ts, end_status, created_ms FROM sessions WHERE id IN (${l})`))}`);
    console.log(`# outbox: ${JSON.stringify(cl.nodes[0].rows("SELECT session_id, id, state, " +
      `attempts, next_ms, lease_ms, last_error FROM outbox WHERE session_id IN (${l})`))}`);
    for (const id of ids) for (const d of cl.nodes)
      console.log(d.log.split("\n").filter((x) => x.includes(id)).join("\n"));
    console.log(`# requests: ${JSON.stringify(results.filter((r) => ids.includes(r.id)))}, crash at ${tCrash}`);
  };
  try {
    await until(() => cl.nodes[0].sql(`SELECT count(*) FROM sessions WHERE id IN (${list}) ` +
      "AND status = 3") === String(acked.length), 30000, 200, "every acknowledged session to finish");
  } catch (e) {
    explain(cl.nodes[0].sql(`SELECT id FROM sessions WHERE id IN (${list}) AND status <> 3`)
      .split("\n").filter(Boolean));
    throw e;
  }
  assert.equal(cl.nodes[0].sql(`SELECT count(*) FROM sessions WHERE id IN (${list}) AND ` +
    "ended_ts > 0 AND end_status <> 0"), String(acked.length), "each has its final record");
  const extra = cl.nodes[0].sql(`SELECT count(*) FROM sessions WHERE id NOT IN (${list})`);
  console.log(`# ${acked.length} acknowledged sessions all on the promoted server; ` +
    `${extra} more admitted whose answer did not reach the client`);

  // Each one's CDR pushed (the outbox, claimed by both nodes through the failover): one
  // content per session, a re-delivery repeating the same id and body.
  const unpushed = () => acked.filter((id) => !pushes.some((x) => JSON.parse(x.body).SessionId === id));
  try {
    await until(() => unpushed().length === 0, 30000, 200, "every acknowledged session's CDR pushed");
  } catch (e) {
    explain(unpushed());
    throw e;
  }
  for (const id of acked) {
    const contents = new Set(pushes.filter((x) => JSON.parse(x.body).SessionId === id)
      .map((x) => x.id + x.body));
    assert.equal(contents.size, 1, `${id} pushed with ${contents.size} contents`);
  }

  // The command listeners connected again (the LISTEN connection's own log line).
  for (const d of cl.nodes) {
    const after = d.log.slice(d.log.indexOf("the command listener's connection was lost"));
    assert.match(after, /postgresql: connected to database/, "the listener reconnected");
  }

  // No node took the other over: both still run, and their heartbeats land again.
  const beat = Date.now();
  await until(() => cl.nodes[0].rows("SELECT count(*) AS n FROM nodes WHERE state = 'running' " +
    `AND heartbeat_ms > ${beat}`)[0].n === 2, 20000, 100, "both nodes' heartbeats");
  assert.deepEqual(cl.nodes[0].rows("SELECT node_id AS id, state, taken_by AS by FROM nodes " +
    "ORDER BY node_id"), [{ id: "node1", state: "running", by: "" },
    { id: "node2", state: "running", by: "" }]);
  for (const d of cl.nodes) assert.doesNotMatch(d.log, /took over node|was taken over/);
});
