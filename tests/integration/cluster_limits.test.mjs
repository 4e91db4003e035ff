// Limits exact across nodes: 3 cccd nodes on one PostgreSQL database (lib/nodes.mjs), the
// requests of one test spread over all three. A caller's concurrency cap and an account's
// CreateIVRSession rate are counted inside the admission transaction under per-key locks
// (docs/postgresql.md §Several nodes), so the cluster admits exactly what one node would.
// PostgreSQL only (the nodes share its database); skipped without it.
//
//   CCCD_STORE=postgresql CCCD_PG_DIR=... node --test tests/integration/cluster_limits.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT, client, sipp, until, cdrOf, httpListen, sleep } from "./lib/cccd.mjs";
import { startNodes } from "./lib/nodes.mjs";

const PG = process.env.CCCD_STORE === "postgresql";
const tencentcloud = createRequire(import.meta.url)(path.join(ROOT,
  "node_modules/tencentcloud-sdk-nodejs-intl-en"));
const OPEN = { work_time: { enabled: false }, blind_area: { enabled: false },
  callee_interval: { max: 0, window_s: 300 }, callee_daily: { max: 0 },
  caller_freq: { max: 0, window_s: 0 }, caller_concurrency: 0,
  blacklist: { enabled: true, entries: [] } };

let cluster, phone, byePhone, next = 1400007000;

const trunk = (name, port, route) => [`[trunk ${name}]`, "host = 127.0.0.1", `port = ${port}`,
  "transport = udp", `route = ${route}`, "options_interval = 0"].join("\n");

before(async () => {
  if (!PG) return;
  // The phone answers and holds every call: admitted sessions stay live.
  phone = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"));
  // One call, then sipp exits 0: only once it got the call's BYE.
  byePhone = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"), { args: ["-m", "1"] });
  // Node 1 alone sends 0086177... to byePhone (its first trunk: file order).
  cluster = await startNodes(3, { trunkPort: phone.port, nodeOpts: (i) => (i ? {} : {
    trunkPort: 0, sections: [trunk("bye", byePhone.port, "0086177"),
      trunk("peer", phone.port, "*")].join("\n") }) });
});

after(async () => {
  for (const d of cluster?.nodes || []) await d.stop();
  cluster?.cleanup();
  await phone?.stop();
  await byePhone?.stop();
});

// A menu nobody answers: each call stays up for a minute, its session live.
const HOLD = { ivrId: 1, name: "hold", type: "autoOutbound", start: "s", nodes: [
  { id: "s", type: "start", next: "m" },
  { id: "m", type: "menu", params: { prompt: { tts: "Hello." }, timeoutMs: 30000, retries: 1,
    keys: { 1: { label: "one", next: "h" } } }, onTimeout: "h", onInvalid: "h" },
  { id: "h", type: "hangup" }] };

// A tenant (made through node 1: the database is shared) and a client per node.
function tenant(rules, hold = true) {
  const d = cluster.nodes[0];
  const sdkappid = next++;
  const file = path.join(d.dir, `rules-${sdkappid}.json`);
  const flow = path.join(d.dir, "hold.json");
  fs.writeFileSync(file, JSON.stringify({ ...OPEN, ...rules }));
  fs.writeFileSync(flow, JSON.stringify(HOLD));
  const creds = d.tenant(["--sdkappid", String(sdkappid), "--ivr",
    hold ? `1:autoOutbound:${flow}` : "1:autoOutbound",
    "--rules", file, "--number", "008601012345678"]);
  return { sdkappid, creds, apis: cluster.nodes.map((n) => client(creds, n.endpoint)) };
}

// cccd's own actions (Cccd*) through the SDK's common request, on node i.
function cccdAction(t, i, action, req) {
  const c = new tencentcloud.ccc.v20200210.Client(new tencentcloud.common.Credential(
    t.creds.TENCENTCLOUD_SECRET_ID, t.creds.TENCENTCLOUD_SECRET_KEY), "", {
    signMethod: "TC3-HMAC-SHA256", httpProfile: { protocol: "http://",
      endpoint: cluster.nodes[i].endpoint, reqMethod: "POST", reqTimeout: 30 } });
  return new Promise((resolve) => {
    const out = { deserialize(data) { Object.assign(this, data); } };
    c.request(action, req, out, (err, resp) => resolve(err ?
      { err: err.code || String(err), message: err.message } : resp));
  });
}

const create = (t, i, callee) => t.apis[i % t.apis.length].CreateIVRSession({
  SdkAppId: t.sdkappid, Callee: callee, IVRId: 1 });

test("20 concurrent CreateIVRSession over 3 nodes, caller_concurrency 3: exactly 3 admitted",
  { skip: !PG && "PostgreSQL only" }, async () => {
    const t = tenant({ caller_concurrency: 3 });
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      create(t, i, `00861380013${String(8000 + i)}`)));
    const ok = rs.filter((r) => !r.err);
    assert.equal(ok.length, 3, JSON.stringify(rs.map((r) => r.err)));
    for (const r of rs.filter((x) => x.err))
      assert.equal(r.err, "FailedOperation.CallerOverFrequency", r.message);
  });

test("60 CreateIVRSession of one account over 3 nodes in one second: exactly 20 admitted",
  { skip: !PG && "PostgreSQL only" }, async () => {
    // The window slides: requests answered more than a second after the first could pass
    // again. On a loaded machine a burst may take longer: up to 3 bursts (a new account
    // each), judged on the first that fit in the second.
    for (let attempt = 1; ; attempt++) {
      const t = tenant({}, false); // calls that end at once: less work beside the requests
      for (const api of t.apis) // connections and credentials warm
        await api.DescribePSTNActiveSessionList({ SdkAppId: t.sdkappid, Offset: 0, Limit: 1 });
      const t0 = Date.now();
      const rs = await Promise.all(Array.from({ length: 60 }, (_, i) =>
        create(t, i, `00861390013${String(8000 + i)}`)));
      const spent = Date.now() - t0;
      if (spent >= 1000 && attempt < 3) continue;
      assert.ok(spent < 1000, `the 60 requests took ${spent} ms`);
      const ok = rs.filter((r) => !r.err);
      assert.equal(ok.length, 20, JSON.stringify(rs.map((r) => r.err)));
      for (const r of rs.filter((x) => x.err)) assert.equal(r.err, "RequestLimitExceeded", r.message);
      return;
    }
  });

test("a rule or a number changed on one node binds the next create on every other node",
  { skip: !PG && "PostgreSQL only" }, async () => {
    // Each node keeps its parsed copy of an instance's rules (docs/architecture.md
    // §Caches): the creates on nodes 2 and 3 first fill theirs, then node 1 changes the
    // rules or the number, and the very next create on nodes 2 and 3 obeys the change.
    const t = tenant({}, false);
    const sdk = t.sdkappid, callee = "008613700137001";
    const make = (i) => t.apis[i].CreateIVRSession({ SdkAppId: sdk, Callee: callee, IVRId: 1 });
    for (const i of [1, 2]) assert.equal((await make(i)).err, undefined);
    let r = await cccdAction(t, 0, "CccdModifyBlacklist", { SdkAppId: sdk, Add: [callee] });
    assert.equal(r.err, undefined, r.message);
    for (const i of [1, 2]) {
      r = await make(i);
      assert.equal(r.err, "FailedOperation.CalleeIsBlackUser", `node ${i + 1}: ${r.message}`);
    }
    r = await cccdAction(t, 0, "CccdModifyBlacklist", { SdkAppId: sdk, Remove: [callee] });
    assert.equal(r.err, undefined, r.message);
    for (const i of [1, 2]) assert.equal((await make(i)).err, undefined, `node ${i + 1}`);
    r = await cccdAction(t, 0, "CccdModifyNumber", { SdkAppId: sdk, Number: "008601012345678",
      Enabled: false });
    assert.equal(r.err, undefined, r.message);
    for (const i of [1, 2]) {
      r = await make(i);
      assert.equal(r.err, "FailedOperation.NoCallOutNumber", `node ${i + 1}: ${r.message}`);
    }
  });

test("a read-only action's 20/s is shared by 3 nodes: 7 on each, 21 in all",
  { skip: !PG && "PostgreSQL only" }, async () => {
    // Each node counts the nodes with a live lease at its heartbeat (every lease_ms / 3,
    // 5 s / 3 here): by now every node has counted all three.
    await sleep(2000);
    for (let attempt = 1; ; attempt++) {
      const t = tenant({}, false);
      const t0 = Date.now();
      const rs = await Promise.all(Array.from({ length: 90 }, (_, i) =>
        t.apis[i % 3].DescribePSTNActiveSessionList({ SdkAppId: t.sdkappid, Offset: 0, Limit: 1 })));
      const spent = Date.now() - t0;
      if (spent >= 1000 && attempt < 3) continue;
      assert.ok(spent < 1000, `the 90 requests took ${spent} ms`);
      const ok = rs.filter((r) => !r.err);
      assert.equal(ok.length, 21, JSON.stringify(rs.map((r) => r.err)));
      for (const r of rs.filter((x) => x.err)) {
        assert.equal(r.err, "RequestLimitExceeded", r.message);
        assert.match(r.message, /7 on each of the nodes/);
      }
      return;
    }
  });

test("HangUpCall sent to a node that does not hold the call ends it within a second",
  { skip: !PG && "PostgreSQL only" }, async () => {
    const t = tenant({});
    const sdk = t.sdkappid;
    const r = await create(t, 0, "008617700000001"); // node 1 holds it, byePhone answers
    assert.equal(r.err, undefined, r.message);
    await until(async () => {
      const q = await t.apis[2].DescribeTelSession({ SdkAppId: sdk, SessionId: r.SessionId });
      return q.Session?.SessionStatus === "inProgress";
    }, 10000, 100, "the call to be answered");
    const active = await t.apis[2].DescribePSTNActiveSessionList({ SdkAppId: sdk, Offset: 0,
      Limit: 25 });
    assert.ok(active.Sessions.some((x) => x.SessionID === r.SessionId),
      "node 3 lists node 1's call");
    const h = await t.apis[1].HangUpCall({ SdkAppId: sdk, SessionId: r.SessionId });
    assert.equal(h.err, undefined, h.message);
    const t0 = Date.now();
    assert.equal(await byePhone.wait(1000), 0, "sipp got the BYE within a second");
    const spent = Date.now() - t0;
    assert.ok(spent < 1000, `${spent} ms`);
    const cdr = await until(() => cdrOf(t.apis[2], sdk, r.SessionId).catch(() => null), 10000,
      200, "the CDR");
    assert.equal(cdr.HungUpSide, "system");
  });

test("every push delivered once with 3 nodes delivering", { skip: !PG && "PostgreSQL only" },
  async () => {
    const got = [];
    const receiver = await httpListen((req, body, res) => {
      got.push(req.headers["x-tccc-push-uuid"]);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ ErrCode: 0, ErrMsg: "ok" }));
    });
    try {
      const t = tenant({}, false);
      const d = cluster.nodes[0];
      d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(t.sdkappid),
        "--url", `http://127.0.0.1:${receiver.port}/push`, "--events", "cdr"]);
      const ids = [];
      for (let i = 0; i < 15; i++) {
        const r = await create(t, i, `00861360013${String(8000 + i)}`);
        assert.equal(r.err, undefined, r.message);
        ids.push(r.SessionId);
      }
      await until(() => new Set(got).size >= ids.length, 30000, 100, "a push per session");
      await sleep(1500); // a duplicate would come now
      assert.equal(got.length, ids.length, "no push twice");
      assert.equal(new Set(got).size, ids.length);
    } finally {
      receiver.server.close();
    }
  });
