// The cccd admin API (docs/admin-api.md) through the official SDK: every action works for
// its caller and is refused to the wrong one (a tenant on an operator action, a tenant on
// another tenant's instance); changes apply to the next request without a restart; a flow
// put over the API runs on the next call while a call in progress keeps its version; an
// invalid flow is refused whole with its errors and the running version stays.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { ROOT, CCC, startCccd, client, sipp, finished, cdrOf, until } from "./lib/cccd.mjs";
import { adminClient, flowText } from "./lib/admin.mjs";

let d, phone, op, a, b, aApi, aCreds, bCreds;
const A = 1400003001, B = 1400003002;
const OPEN = JSON.stringify({ work_time: { enabled: false }, blind_area: { enabled: false },
  callee_interval: { max: 0 }, callee_daily: { max: 0 }, caller_freq: { max: 0 },
  caller_concurrency: 0 });

before(async () => {
  phone = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"), { port: 16300,
    args: ["-mp", "16320"] });
  d = await startCccd({ trunkPort: phone.port, rtpBase: 33000 });
  op = adminClient(d.ccc(["admin", "--config", d.confPath, "operator-add", "--name", "ops"])
    .trim().split("\n").reduce((o, l) => { const [k, v] = l.split("="); o[k] = v; return o; }, {}),
  d.endpoint);
  const ca = d.addTenant(A, { ivrs: ["1:autoOutbound", "2:inbound"], numbers: ["008601012340001"] });
  const cb = d.addTenant(B, { ivrs: ["1:autoOutbound"], numbers: ["008601012340002"] });
  a = adminClient(ca, d.endpoint);
  aCreds = ca;
  b = adminClient(cb, d.endpoint);
  bCreds = cb;
  aApi = client(ca, d.endpoint);
});

after(async () => {
  await d?.close();
  await phone?.stop();
});

const flow = (nodes, type = "autoOutbound", ivrId = 1) =>
  flowText({ ivrId, name: "api flow", type, start: "s", nodes: [{ id: "s", type: "start", next: nodes[0].id }, ...nodes] });

test("operator actions: a tenant is refused with AuthFailure.UnauthorizedOperation", async () => {
  const r = await a("CccdModifyInstance", { SdkAppId: A, AIChannels: 5 });
  assert.equal(r.err, "AuthFailure.UnauthorizedOperation");
  assert.equal((await a("CccdCreateTenant", { SdkAppId: 1400003099 })).err,
    "AuthFailure.UnauthorizedOperation");
  assert.equal((await a("CccdDescribeInstance", { SdkAppId: A })).AIChannels, 0, "unchanged");

  assert.equal((await op("CccdModifyInstance", { SdkAppId: A, AIChannels: 5, PackageExpiresAt: 4102444800 })).err, undefined);
  const i = await a("CccdDescribeInstance", { SdkAppId: A });
  assert.deepEqual([i.Edition, i.AIChannels, i.PackageExpiresAt], ["advanced", 5, 4102444800]);
  assert.equal((await op("CccdModifyInstance", { SdkAppId: 1400003999, AIChannels: 1 })).err,
    "InvalidParameterValue.InstanceNotExist");
  assert.equal((await op("CccdModifyInstance", { SdkAppId: A, Edition: "gold" })).err,
    "InvalidParameterValue");
});

test("an operator creates a tenant whose credential works at once", async () => {
  const r = await op("CccdCreateTenant", { SdkAppId: 1400003010, AccountName: "new co",
    Edition: "advanced", AIChannels: 2, Numbers: ["+86 10 1234 0010"] });
  assert.equal(r.err, undefined);
  assert.match(r.SecretId, /^AKID/);
  const c = adminClient({ TENCENTCLOUD_SECRET_ID: r.SecretId, TENCENTCLOUD_SECRET_KEY: r.SecretKey }, d.endpoint);
  const i = await c("CccdDescribeInstance", { SdkAppId: 1400003010 });
  assert.equal(i.AIChannels, 2);
  const n = await c("CccdDescribeNumbers", { SdkAppId: 1400003010 });
  assert.deepEqual(n.Numbers.map((x) => x.Number), ["00861012340010"]);
  assert.equal((await op("CccdCreateTenant", { SdkAppId: 1400003010 })).err, "InvalidParameterValue",
    "an instance exists already");
  assert.equal((await c("CccdDescribeInstance", { SdkAppId: A })).err,
    "InvalidParameterValue.InstanceNotExist", "it sees only its own instance");
});

test("another tenant's SdkAppId gets the same answer as the TCCC actions give", async () => {
  for (const [action, p] of [["CccdDescribeInstance", {}], ["CccdDescribeIVRFlows", {}],
    ["CccdDescribeCalloutRules", {}], ["CccdDescribeBlacklist", {}], ["CccdDescribeNumbers", {}],
    ["CccdModifyBlacklist", { Add: ["13800138000"] }],
    ["CccdModifyNumber", { Number: "008601012340001", InboundIVRId: 0 }],
    ["CccdPutIVRFlow", { IVRId: 1, Flow: flow([{ id: "e", type: "hangup" }]) }],
    ["CccdModifyCalloutRules", { Rules: "{}" }]]) {
    const r = await b(action, { SdkAppId: A, ...p });
    assert.equal(r.err, "InvalidParameterValue.InstanceNotExist", action);
  }
  // The same answer as a TCCC action on another tenant's instance.
  const t = await client(bCreds, d.endpoint).DescribeTelSession({ SdkAppId: A, SessionId: "0" });
  assert.equal(t.err, "InvalidParameterValue.InstanceNotExist");
});

test("callout rules and the blacklist over the API apply to the next request", async () => {
  const bad = await a("CccdModifyCalloutRules", { SdkAppId: A, Rules: '{"work_time":{"windows":[{"start":"25:00","end":"26:00"}]}}' });
  assert.equal(bad.err, "InvalidParameterValue");
  assert.match(bad.message, /work_time\.windows\[0\]\.start/);
  const ok = await a("CccdModifyCalloutRules", { SdkAppId: A, Rules: OPEN });
  assert.equal(ok.err, undefined);
  const got = JSON.parse((await a("CccdDescribeCalloutRules", { SdkAppId: A })).Rules);
  assert.equal(got.work_time.enabled, false);
  assert.equal(got.caller_concurrency, 0);

  const add = await a("CccdModifyBlacklist", { SdkAppId: A, Add: ["+86 138 0013 8000", "0086170*"] });
  assert.deepEqual(add.Entries, ["008613800138000", "0086170*"]);
  assert.equal((await a("CccdModifyBlacklist", { SdkAppId: A, Add: ["10086"] })).err, "InvalidParameterValue");
  let r = await aApi.CreateIVRSession({ SdkAppId: A, Callee: "13800138000", IVRId: 1 });
  assert.equal(r.err, "FailedOperation.CalleeIsBlackUser");
  const rm = await a("CccdModifyBlacklist", { SdkAppId: A, Remove: ["013800138000"] });
  assert.deepEqual(rm.Entries, ["0086170*"]);
  assert.deepEqual((await a("CccdDescribeBlacklist", { SdkAppId: A })).Entries, ["0086170*"]);
  r = await aApi.CreateIVRSession({ SdkAppId: A, Callee: "13800138000", IVRId: 1 });
  assert.equal(r.err, undefined, "the callee may be called again");
  await aApi.HangUpCall({ SdkAppId: A, SessionId: r.SessionId });
  await finished(aApi, A, r.SessionId);
  // The rules kept every other setting.
  assert.equal(JSON.parse((await a("CccdDescribeCalloutRules", { SdkAppId: A })).Rules).caller_concurrency, 0);
});

test("numbers: inbound IVR binding, checked against the instance's IVRs", async () => {
  assert.equal((await a("CccdModifyNumber", { SdkAppId: A, Number: "+86 10 1234 0001", InboundIVRId: 2 })).err, undefined);
  let n = await a("CccdDescribeNumbers", { SdkAppId: A });
  assert.deepEqual(n.Numbers, [{ Number: "00861012340001", State: 1, Outbound: true, Class: "platform", InboundIVRId: 2 }]);
  assert.equal((await a("CccdModifyNumber", { SdkAppId: A, Number: "008601012340001", InboundIVRId: 1 })).err,
    "InvalidParameterValue", "IVR 1 is not an inbound IVR");
  assert.equal((await a("CccdModifyNumber", { SdkAppId: A, Number: "008601099999999", InboundIVRId: 0 })).err,
    "InvalidParameterValue", "not a number of the instance");
  assert.equal((await a("CccdModifyNumber", { SdkAppId: A, Number: "008601012340001", InboundIVRId: 0 })).err, undefined);
  n = await a("CccdDescribeNumbers", { SdkAppId: A });
  assert.equal(n.Numbers[0].InboundIVRId, 0);
});

test("ccc call reaches the admin actions too, signed like any action", () => {
  const run = (creds, ...args) => execFileSync(CCC, ["call", ...args, "--endpoint", d.endpoint],
    { env: { ...process.env, ...creds }, encoding: "utf8" });
  const out = JSON.parse(run(aCreds, "CccdDescribeInstance", `SdkAppId=${A}`));
  assert.equal(out.Response.SdkAppId, A);
  const flows = JSON.parse(run(aCreds, "CccdDescribeIVRFlows", "--sign", "HmacSHA256", `SdkAppId=${A}`));
  assert.ok(flows.Response.IVRFlows.length >= 2);
  assert.throws(() => run(aCreds, "CccdModifyInstance", `SdkAppId=${A}`, "AIChannels=1"),
    (e) => e.status === 1 && /AuthFailure\.UnauthorizedOperation/.test(e.stdout + e.stderr));
});

test("a flow put over the API: refused whole when invalid, the next call runs it, a call in progress keeps its version", async () => {
  const v1 = flow([{ id: "p", type: "prompt", params: { tts: "This is the first version of the flow speaking slowly.", plays: 3 }, next: "e" },
    { id: "e", type: "hangup", params: { endStatus: "ok" } }]);
  let r = await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 1, Flow: v1 });
  assert.equal(r.err, undefined);
  const base = r.Version;
  assert.equal(r.UsesAI, false);

  // Invalid: every finding named, nothing stored.
  const bad = await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 1, Flow: flow([
    { id: "m", type: "menu", params: { prompt: { tts: "x" }, timeoutMs: 1, keys: { 1: { next: "nowhere" } } }, onTimeout: "e", onInvalid: "e" },
    { id: "e", type: "zap" }]) });
  assert.equal(bad.err, "InvalidParameterValue");
  assert.match(bad.message, /node 'm' params\.keys\.1\.next: target 'nowhere' does not exist/);
  assert.match(bad.message, /node 'm' params\.timeoutMs: 1 is out of range/);
  assert.match(bad.message, /node 'e' type: unknown node type 'zap'/);
  assert.equal((await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 1, Flow: "{not json" })).err, "InvalidParameterValue");
  assert.equal((await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 1, Flow: flow([{ id: "e", type: "hangup" }], "inbound") })).err,
    "InvalidParameterValue", "an IVR keeps its type");
  let list = await a("CccdDescribeIVRFlows", { SdkAppId: A });
  const ivr1 = list.IVRFlows.find((x) => x.IVRId === 1);
  assert.equal(ivr1.Version, base, "the running version stays");
  assert.equal(ivr1.Versions.length, base);

  // A call starts on v1 and is in its prompt when v2 arrives.
  const s1 = await aApi.CreateIVRSession({ SdkAppId: A, Callee: "008613900139001", IVRId: 1 });
  assert.equal(s1.err, undefined);
  await finishedAnswered(s1.SessionId);
  const v2 = flow([{ id: "e", type: "hangup", params: { endStatus: "notWorkTime" } }]);
  r = await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 1, Flow: v2 });
  assert.equal(r.Version, base + 1);
  const s2 = await aApi.CreateIVRSession({ SdkAppId: A, Callee: "008613900139002", IVRId: 1 });
  assert.equal(s2.err, undefined);
  await finished(aApi, A, s2.SessionId);
  await finished(aApi, A, s1.SessionId);
  assert.equal((await cdrOf(aApi, A, s2.SessionId)).EndStatus, 106, "the new call runs v2");
  assert.equal((await cdrOf(aApi, A, s1.SessionId)).EndStatus, 1, "the call in progress kept v1");

  const one = await a("CccdDescribeIVRFlow", { SdkAppId: A, IVRId: 1, Version: base });
  assert.equal(one.Flow, v1);
  assert.equal((await a("CccdDescribeIVRFlow", { SdkAppId: A, IVRId: 1 })).Flow, v2);
  assert.equal((await a("CccdDescribeIVRFlow", { SdkAppId: A, IVRId: 1, Version: 99 })).err, "InvalidParameterValue");
  list = await a("CccdDescribeIVRFlows", { SdkAppId: A });
  assert.deepEqual(list.IVRFlows.map((x) => [x.IVRId, x.Type]), [[1, "autoOutbound"], [2, "inbound"]]);
});

// Waits until the session was answered (its prompt is playing).
async function finishedAnswered(id) {
  await until(async () => {
    const r = await aApi.DescribeTelSession({ SdkAppId: A, SessionId: id });
    return r.Session && r.Session.AcceptTimestamp > 0;
  }, 15000, 100, "the call to be answered");
}
