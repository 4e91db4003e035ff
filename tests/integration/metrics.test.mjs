// Operations (issue #16): the admin listener's /metrics, /healthz and /readyz, the drain
// switch, and JSON logs. A scrape before and after a known set of calls and requests: each
// counter moved by exactly what happened, and the exposition passes a strict parser
// (lib/prometheus.mjs). /readyz fails while the node drains and while the store cannot be
// written, and passes again after. Draining refuses new sessions (the API with
// ResourceUnavailable, inbound INVITEs with 503 and Retry-After) and lets a call in
// progress finish. JSON log lines parse and carry the SessionId and RequestId.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT, startCccd, client, sipp, until, sleep, httpListen, finished, cdrOf, raw } from "./lib/cccd.mjs";
import { parse } from "./lib/prometheus.mjs";

const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));

const SDKAPPID = 1400016000;
const flow = (tts) => ({
  name: "hello", type: "autoOutbound", start: "start",
  nodes: [
    { id: "start", type: "start", next: "p" },
    { id: "p", type: "prompt", next: "bye", params: { tts, interruptible: false } },
    { id: "bye", type: "hangup" },
  ],
});

let phone, server, pushPort, pushes = [];

before(async () => {
  ({ port: pushPort, server } = await httpListen((req, body, res) => {
    pushes.push(JSON.parse(body));
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0}');
  }));
  phone = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"));
});

after(async () => {
  await phone?.stop();
  server?.close();
});

// cccd with one tenant: IVR 1 says a word and hangs up, IVR 2 talks for a few seconds.
async function cccdWithTenant(opts = {}) {
  const d = await startCccd({ trunkPort: phone.port, ...opts });
  const f1 = path.join(d.dir, "1.json"), f2 = path.join(d.dir, "2.json");
  fs.writeFileSync(f1, JSON.stringify(flow("Hello.")));
  fs.writeFileSync(f2, JSON.stringify(flow("Please hold on: this call lasts a few seconds, " +
    "long enough for the node to be drained while it goes on.")));
  const creds = d.addTenant(SDKAPPID, { ivrs: [`1:autoOutbound:${f1}`, `2:autoOutbound:${f2}`],
    numbers: ["008601012345678"] });
  d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(SDKAPPID),
    "--url", `http://127.0.0.1:${pushPort}/push`, "--events", "cdr"]);
  return { d, creds, api: client(creds, d.endpoint) };
}

// Any action through the SDK's common request (the Cccd* admin actions).
function common(creds, d) {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod: "TC3-HMAC-SHA256",
      httpProfile: { protocol: "http://", endpoint: d.endpoint, reqMethod: "POST", reqTimeout: 30 } });
  return (action, req) => new Promise((resolve) => {
    const out = { deserialize(data) { Object.assign(this, data); } };
    c.request(action, req, out, (err, resp) => {
      if (err) return resolve({ err: err.code || String(err), message: err.message });
      delete resp.deserialize;
      resolve(resp);
    });
  });
}

// One sipp run of a scenario file against cccd's SIP port; resolves to sipp's exit status.
function sippOnce(d, scen, service = "+861012345678") {
  return new Promise((r) => spawn("sipp", ["-sf", scen, "-s", service, "-i", "127.0.0.1",
    "-p", "0", "-m", "1", "-timeout", "10s", "-timeout_error", "-nostdin",
    `127.0.0.1:${d.sipPort}`], { stdio: "ignore" }).once("exit", r));
}

// The SDK client, counting every answer by action and code, as /metrics should.
function counted(api) {
  const seen = new Map();
  const proxy = new Proxy({}, {
    get: (_, action) => async (req) => {
      const r = await api[action](req);
      const k = `${action}|${r.err || "OK"}`;
      seen.set(k, (seen.get(k) || 0) + 1);
      return r;
    },
  });
  return { api: proxy, seen };
}

async function scrape(d) {
  const r = await d.admin("/metrics");
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
  return parse(r.body);
}

function stopOperator(d) {
  const out = d.ccc(["admin", "--config", d.confPath, "operator-add", "--name", "ops"]);
  return Object.fromEntries(out.trim().split("\n").map((l) => l.split("=")));
}

test("a scrape before and after calls and requests: each counter moved by exactly what happened", async () => {
  const { d, api: sdk } = await cccdWithTenant();
  try {
    pushes = [];
    await sleep(1200); // the loop's first publication
    const before = await scrape(d);
    const { api, seen } = counted(sdk);

    const sids = [];
    for (let i = 0; i < 2; i++) {
      const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, IVRId: 1,
        Callee: `008613800138${String(i).padStart(3, "0")}` });
      assert.ok(r.SessionId, JSON.stringify(r));
      sids.push(r.SessionId);
    }
    for (const s of sids) await finished(api, SDKAPPID, s);
    const unknown = await api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: "0".repeat(32) });
    assert.ok(unknown.err, "an unknown session is an error");
    // A burst over the rate limit (20/s per account and action): some are refused.
    const now = Math.floor(Date.now() / 1000);
    const burst = await Promise.all(Array.from({ length: 30 }, () => api.DescribeTelCdr({
      SdkAppId: SDKAPPID, StartTimeStamp: now - 600, EndTimeStamp: now + 60, PageSize: 10,
      PageNumber: 0 })));
    const limited = burst.filter((r) => r.err === "RequestLimitExceeded").length;
    assert.ok(limited > 0, "the burst met the rate limit");
    // Two requests that name no action cccd serves: counted as "unknown", by their code.
    const junk = [];
    for (const action of ["NoSuchAction", ""]) {
      const x = await raw(d.apiPort, { headers: { "Content-Type": "application/json",
        "X-TC-Action": action, "X-TC-Version": "2020-02-10" }, body: "{}" });
      junk.push(x.body.Response.Error.Code);
    }
    await until(() => pushes.length >= 2, 20000, 100, "the two CDR pushes");
    const cdrs = [];
    await sleep(1100); // past the burst's rate-limit second
    for (const s of sids) cdrs.push(await cdrOf(api, SDKAPPID, s));
    await sleep(1500); // the loop publishes sessions once a second
    const after = await scrape(d);
    const delta = (name, labels) => after.value(name, labels) - before.value(name, labels);
    const dsum = (name, labels) => after.sum(name, labels) - before.sum(name, labels);

    // API: every answer by action and code, its latency histogram, the rate limit.
    for (const [k, n] of seen) {
      const [action, code] = k.split("|");
      assert.equal(delta("cccd_api_requests_total", { action, code }), n, `${action} ${code}`);
    }
    const byAction = new Map();
    for (const [k, n] of seen) byAction.set(k.split("|")[0], (byAction.get(k.split("|")[0]) || 0) + n);
    for (const [action, n] of byAction) {
      assert.equal(delta("cccd_api_request_duration_seconds_count", { action }), n, action);
      assert.equal(dsum("cccd_api_requests_total", { action }), n, action);
    }
    assert.equal(delta("cccd_api_rate_limited_total", { action: "DescribeTelCdr" }), limited);
    const junkCodes = new Map();
    for (const c of junk) junkCodes.set(c, (junkCodes.get(c) || 0) + 1);
    for (const [code, n] of junkCodes) {
      assert.equal(delta("cccd_api_requests_total", { action: "unknown", code }), n, code);
    }
    assert.equal(dsum("cccd_api_requests_total", { action: "unknown" }), junk.length);

    // Calls: two outbound sessions ended with their records' EndStatus; none live now.
    const ended = new Map();
    for (const c of cdrs) ended.set(String(c.EndStatus), (ended.get(String(c.EndStatus)) || 0) + 1);
    for (const [status, n] of ended) {
      assert.equal(delta("cccd_calls_ended_total", { end_status: status, direction: "outbound" }), n);
    }
    assert.equal(dsum("cccd_calls_ended_total"), 2);
    assert.equal(after.value("cccd_calls_active"), 0);
    // libre's own timers on the loop's wheel: the start-up check passed (wheel/libre_tmr.c)
    assert.equal(after.value("cccd_libre_timers_wheel"), 1);
    assert.equal(after.sum("cccd_sessions"), 0);
    assert.equal(after.value("cccd_dial_queue_depth"), 0);

    // SIP: two INVITEs out (and their retransmissions, if any), each 180 once, an ACK for
    // every 200 heard, cccd's BYE on each and its 200.
    const rt = delta("cccd_sip_invite_retransmissions_total", { direction: "out" });
    assert.equal(delta("cccd_sip_requests_total", { method: "INVITE", direction: "out" }), 2 + rt);
    assert.equal(delta("cccd_sip_responses_total", { method: "INVITE", code: "180", direction: "in" }), 2);
    const ok200 = delta("cccd_sip_responses_total", { method: "INVITE", code: "200", direction: "in" });
    assert.ok(ok200 >= 2);
    assert.equal(delta("cccd_sip_requests_total", { method: "ACK", direction: "out" }), ok200);
    assert.equal(delta("cccd_sip_requests_total", { method: "BYE", direction: "out" }), 2);
    assert.equal(delta("cccd_sip_responses_total", { method: "BYE", code: "200", direction: "in" }), 2);
    assert.equal(dsum("cccd_sip_requests_total", { direction: "in" }), 0, "the phone sent no request");

    // Media, push, store, fraud.
    assert.ok(dsum("cccd_rtp_packets_sent_total") > 0, "the prompts went out as RTP");
    assert.equal(after.sum("cccd_media_worker_streams"), 0);
    assert.equal(delta("cccd_push_deliveries_total"), 2);
    assert.equal(delta("cccd_push_failures_total"), 0);
    await until(async () => (await scrape(d)).value("cccd_push_queue_depth") === 0, 5000, 200,
      "an empty push queue");
    const commits = delta("cccd_store_commit_duration_seconds_count");
    assert.ok(commits > 0);
    assert.equal(delta("cccd_store_commit_group_size_count"), commits);
    assert.ok(delta("cccd_store_commit_group_size_sum") >= commits);
    assert.equal(dsum("cccd_fraud_refusals_total"), 0);
    assert.equal(after.families.get("cccd_trunk_up").samples.length, 1);
    assert.equal(after.value("cccd_trunk_up", { trunk: "peer" }), 1);
    await d.close();
  } finally {
    await d.stop();
    d.cleanup();
  }
});

test("/healthz, /readyz and the drain switch: new sessions refused, a call in progress finishes", async () => {
  const { d, creds, api } = await cccdWithTenant();
  try {
    const op = common(stopOperator(d), d);
    assert.deepEqual(await d.admin("/healthz").then((r) => [r.status, r.body]), [200, "ok\n"]);
    assert.equal((await d.admin("/readyz")).status, 200);
    assert.equal((await d.admin("/nothing")).status, 404);

    const tenantTry = await common(creds, d)("CccdDrainNode", { Drain: true });
    assert.equal(tenantTry.err, "UnauthorizedOperation", "a tenant cannot drain the node");

    // A call in progress (IVR 2 talks for a few seconds), then the drain.
    const live = await api.CreateIVRSession({ SdkAppId: SDKAPPID, IVRId: 2, Callee: "008613800138100" });
    assert.ok(live.SessionId, JSON.stringify(live));
    await until(async () => (await api.DescribeTelSession({ SdkAppId: SDKAPPID,
      SessionId: live.SessionId })).Session?.AcceptTimestamp > 0, 10000, 100, "the call answered");
    const on = await op("CccdDrainNode", { Drain: true });
    assert.equal(on.err, undefined, on.message);
    assert.equal(on.Draining, true);
    assert.equal(on.WasDraining, false);

    const ready = await d.admin("/readyz");
    assert.equal(ready.status, 503);
    assert.match(ready.body, /draining/);
    const refused = await api.CreateIVRSession({ SdkAppId: SDKAPPID, IVRId: 1, Callee: "008613800138101" });
    assert.equal(refused.err, "ResourceUnavailable");
    assert.match(refused.message, /node draining/);

    // An inbound INVITE: 503 with a Retry-After.
    const scen = path.join(d.dir, "uac_503.xml");
    fs.writeFileSync(scen, fs.readFileSync(path.join(ROOT, "tests/sip/uac_ai_refused.xml"), "utf8")
      .replace('<recv response="REFUSAL_CODE" response_txn="invite"/>',
        '<recv response="503" response_txn="invite"><action><ereg regexp="[0-9]+" ' +
        'search_in="hdr" header="Retry-After:" check_it="true" assign_to="ra"/></action></recv>' +
        '<Reference variables="ra"/>'));
    assert.equal(await sippOnce(d, scen), 0, "the inbound INVITE was answered 503 with Retry-After");
    // OPTIONS (a SIP edge's probe): 503 with Retry-After too, and 200 again after.
    const options = path.join(ROOT, "tests/sip/uac_options.xml");
    const options503 = path.join(d.dir, "uac_options_503.xml");
    fs.writeFileSync(options503, fs.readFileSync(options, "utf8")
      .replace('<recv response="200">', '<recv response="503">')
      .replace('header="Allow:"', 'header="Retry-After:"').replace('regexp="INVITE"', 'regexp="[0-9]+"'));
    assert.equal(await sippOnce(d, options503), 0, "OPTIONS answered 503 while draining");

    // The call in progress ends as it would have: its flow played to the hangup node.
    await finished(api, SDKAPPID, live.SessionId);
    const cdr = await cdrOf(api, SDKAPPID, live.SessionId);
    assert.equal(cdr.EndStatus, 1, JSON.stringify(cdr));
    assert.ok(cdr.AcceptTimestamp > 0 && cdr.EndedTimestamp >= cdr.AcceptTimestamp + 2,
      "the call went on for seconds after the drain");

    const off = await op("CccdDrainNode", { Drain: false });
    assert.equal(off.Draining, false);
    assert.equal(off.WasDraining, true);
    assert.equal((await d.admin("/readyz")).status, 200);
    assert.equal(await sippOnce(d, options), 0, "OPTIONS answered 200 again");
    const again = await api.CreateIVRSession({ SdkAppId: SDKAPPID, IVRId: 1, Callee: "008613800138102" });
    assert.ok(again.SessionId, JSON.stringify(again));
    await finished(api, SDKAPPID, again.SessionId);

    // The signals: SIGUSR1 drains, SIGUSR2 ends it; the loop logs each within a second.
    const count = (re) => (d.log.match(re) || []).length;
    await d.waitLog(/main: draining off/); // the API's change, logged by the loop
    const ons = count(/main: draining on/g), offs = count(/main: draining off/g);
    d.proc.kill("SIGUSR1");
    await until(async () => (await d.admin("/readyz")).status === 503, 5000, 50, "SIGUSR1 to drain");
    await until(() => count(/main: draining on/g) === ons + 1, 5000, 50, "the loop to log the drain");
    d.proc.kill("SIGUSR2");
    await until(async () => (await d.admin("/readyz")).status === 200, 5000, 50, "SIGUSR2 to undrain");
    await until(() => count(/main: draining off/g) === offs + 1, 5000, 50, "the loop to log its end");
    await d.close();
  } finally {
    await d.stop();
    d.cleanup();
  }
});

test("/readyz fails while the store cannot be written, and passes once it can", async () => {
  const { d, api } = await cccdWithTenant({ storeLines: ["busy_timeout_ms = 300"] });
  let holder;
  try {
    assert.equal((await d.admin("/readyz")).status, 200);
    // A call whose writes (answer, path, final record) come while another process holds
    // the database locked: they wait in the writer's queue, and the store is unusable.
    const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, IVRId: 2, Callee: "008613800138200" });
    assert.ok(r.SessionId, JSON.stringify(r));
    holder = spawn("sqlite3", ["-cmd", ".timeout 10000", path.join(d.dir, "cccd.db")],
      { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    holder.stdout.on("data", (b) => { out += b; });
    holder.stdin.write("BEGIN EXCLUSIVE;\nSELECT 'locked';\n");
    await until(() => out.includes("locked"), 15000, 20, "the lock to be taken");
    const notReady = await until(async () => {
      const x = await d.admin("/readyz");
      return x.status === 503 ? x : null;
    }, 20000, 100, "/readyz to fail");
    assert.match(notReady.body, /store not writable/);
    const done = new Promise((res) => holder.once("exit", res));
    holder.stdin.end("ROLLBACK;\n.quit\n");
    await done;
    holder = null;
    await until(async () => (await d.admin("/readyz")).status === 200, 20000, 100, "/readyz to pass again");
    await finished(api, SDKAPPID, r.SessionId);
    await d.close();
  } finally {
    holder?.kill("SIGKILL");
    await d.stop();
    d.cleanup();
  }
});

test("[log] format = json: every line is an object; a session's lines carry its SessionId, a request's its RequestId", async () => {
  const { d, api } = await cccdWithTenant({ logFormat: "json", logLevel: "debug" });
  try {
    const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, IVRId: 1, Callee: "008613800138300" });
    assert.ok(r.SessionId, JSON.stringify(r));
    await finished(api, SDKAPPID, r.SessionId);
    const bad = await api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: "f".repeat(32) });
    await d.waitLog(/"msg":"[^"]*finished: EndStatus/);
    await d.close();
    const lines = d.log.split("\n").filter((l) => l !== "");
    const objs = lines.map((l) => {
      try { return JSON.parse(l); } catch { assert.fail(`not a JSON line: ${l}`); }
    });
    for (const o of objs) {
      assert.match(o.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(["debug", "info", "warn", "error"].includes(o.level), o.level);
      assert.equal(typeof o.module, "string");
      assert.equal(typeof o.msg, "string");
    }
    const ofSession = objs.filter((o) => o.session_id === r.SessionId);
    const modules = new Set(ofSession.map((o) => o.module));
    assert.ok(modules.has("session") && modules.has("call"), [...modules].join(","));
    assert.ok(ofSession.some((o) => /calling/.test(o.msg)));
    assert.ok(ofSession.some((o) => /finished: EndStatus/.test(o.msg)));
    // every line that names the session in its text carries it as a field
    for (const o of objs) {
      if (o.msg.includes(r.SessionId)) assert.equal(o.session_id, r.SessionId, JSON.stringify(o));
    }
    assert.ok(objs.some((o) => o.request_id === r.RequestId && o.module === "api"),
      "the CreateIVRSession request's line carries its RequestId");
    assert.ok(objs.some((o) => o.request_id === bad.requestId), "the failed request's line too");
  } finally {
    await d.stop();
    d.cleanup();
  }
});
