// The admin actions over the API with the official SDK's common request (and `ccc call`):
// each works for its caller and is refused for the wrong one (another tenant's instance, a
// tenant calling an operator action); flows are validated whole and versioned; rules,
// blacklist, number bindings, licences and new tenants apply without a restart.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { CCC, ROOT, startCccd } from "./lib/cccd.mjs";

const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));

let d, op, a, b, aCreds;
const A = 1400004001, B = 1400004002;

// Any action through the SDK's common client: resolves to the response or {err, message}.
function admin(creds) {
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

const FLOW = (tts) => JSON.stringify({ type: "autoOutbound", nodes: [
  { id: "s", type: "start", next: "hi" },
  { id: "hi", type: "prompt", params: { tts }, next: "bye" },
  { id: "bye", type: "hangup" }] });

before(async () => {
  d = await startCccd({ sections:
    "[trunk nowhere]\nhost = 127.0.0.1\nport = 9\ntransport = udp\nroute = *\noptions_interval = 0\n" });
  const ccc = (...args) => d.ccc(["admin", "--config", d.confPath, ...args]);
  op = admin(Object.fromEntries(ccc("operator-add", "--name", "ops").trim().split("\n").map((l) => l.split("="))));
  aCreds = d.tenant(["--sdkappid", String(A), "--rules", "demo", "--ivr", "1:autoOutbound",
    "--number", "008601012345678"]);
  a = admin(aCreds);
  b = admin(d.tenant(["--sdkappid", String(B), "--rules", "demo", "--ivr", "1:autoOutbound",
    "--number", "008601012345679"]));
});

after(async () => {
  await d?.close();
});

test("flows: put a version, list, get any version; another tenant's instance is unknown", async () => {
  const r = await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 7, Document: FLOW("one"), Name: "seven" });
  assert.equal(r.err, undefined, r.message);
  assert.equal(r.Version, 1);
  assert.equal(r.Type, "autoOutbound");
  assert.equal(r.UsesAI, false);
  const r2 = await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 7, Document: FLOW("two") });
  assert.equal(r2.Version, 2);
  const list = await a("CccdDescribeIVRFlows", { SdkAppId: A });
  assert.deepEqual(list.IVRs.map((i) => [i.IVRId, i.Version]), [[1, 1], [7, 2]]);
  const v1 = await a("CccdDescribeIVRFlow", { SdkAppId: A, IVRId: 7, Version: 1 });
  assert.equal(JSON.parse(v1.Document).nodes[1].params.tts, "one");
  assert.equal(v1.CurrentVersion, 2);
  const cur = await a("CccdDescribeIVRFlow", { SdkAppId: A, IVRId: 7 });
  assert.equal(cur.Version, 2);
  assert.equal((await a("CccdDescribeIVRFlow", { SdkAppId: A, IVRId: 7, Version: 9 })).err,
    "InvalidParameterValue");
  for (const [act, req] of [["CccdPutIVRFlow", { SdkAppId: A, IVRId: 7, Document: FLOW("x") }],
    ["CccdDescribeIVRFlows", { SdkAppId: A }], ["CccdDescribeIVRFlow", { SdkAppId: A, IVRId: 7 }],
    ["CccdDescribeCalloutRules", { SdkAppId: A }], ["CccdDescribeBlacklist", { SdkAppId: A }],
    ["CccdModifyBlacklist", { SdkAppId: A, Add: ["008613800138000"] }],
    ["CccdModifyNumber", { SdkAppId: A, Number: "008601012345678", Enabled: false }]]) {
    assert.equal((await b(act, req)).err, "InvalidParameterValue.InstanceNotExist", act);
  }
  assert.equal((await a("CccdDescribeIVRFlow", { SdkAppId: A, IVRId: 7 })).Version, 2,
    "nothing changed by the refused calls");
});

test("an invalid flow is refused whole with every finding; the running version stays", async () => {
  const bad = JSON.stringify({ type: "autoOutbound", nodes: [
    { id: "s", type: "start", next: "ask" },
    { id: "ask", type: "speech", params: { prompt: { tts: "Yes?" }, url: "ftp://x", maxLenS: 99 },
      next: "nowhere", onFail: "bye" },
    { id: "bye", type: "hangup" }] });
  const r = await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 7, Document: bad });
  assert.equal(r.err, "InvalidParameterValue");
  assert.match(r.message, /node 'ask' params\.url: must start with https:\/\//);
  assert.match(r.message, /node 'ask' params\.maxLenS: 99 is out of range/);
  assert.match(r.message, /nowhere/);
  assert.equal((await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 7, Document: "{" })).err,
    "InvalidParameterValue");
  assert.equal((await a("CccdDescribeIVRFlow", { SdkAppId: A, IVRId: 7 })).Version, 2);
});

test("a new version is taken by the next session; a session keeps the version it started with", async () => {
  const s1 = await a("CreateIVRSession", { SdkAppId: A, Callee: "008613800138000", IVRId: 7 });
  assert.equal(s1.err, undefined, s1.message);
  const r = await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 7, Document: FLOW("three") });
  assert.equal(r.Version, 3);
  const s2 = await a("CreateIVRSession", { SdkAppId: A, Callee: "008613800138001", IVRId: 7 });
  assert.equal(s2.err, undefined);
  const q = (id) => d.sql(`SELECT ivr_version FROM sessions WHERE id='${id}'`);
  assert.equal(q(s1.SessionId), "2");
  assert.equal(q(s2.SessionId), "3");
});

test("callout rules and the blacklist over the API apply to the next request", async () => {
  const rules = await a("CccdDescribeCalloutRules", { SdkAppId: A });
  const r = JSON.parse(rules.Rules);
  assert.equal(r.work_time.enabled, false, "the demo rules");
  r.callee_daily = { max: 1, mode: "rolling24h" };
  const set = await a("CccdModifyCalloutRules", { SdkAppId: A, Rules: JSON.stringify(r) });
  assert.equal(set.err, undefined, set.message);
  assert.equal(JSON.parse(set.Rules).callee_daily.max, 1);
  assert.equal((await a("CreateIVRSession", { SdkAppId: A, Callee: "008613700137001", IVRId: 1 })).err, undefined);
  assert.equal((await a("CreateIVRSession", { SdkAppId: A, Callee: "008613700137001", IVRId: 1 })).err,
    "FailedOperation.CalloutRuleMaxCallCountCalleePerDayAppID");
  const badRules = await a("CccdModifyCalloutRules", { SdkAppId: A, Rules: '{"work_time": {"windows": [{"start": "25:00"}]}}' });
  assert.equal(badRules.err, "InvalidParameterValue");
  assert.match(badRules.message, /work_time/);
  assert.equal(JSON.parse((await a("CccdDescribeCalloutRules", { SdkAppId: A })).Rules).callee_daily.max, 1);

  const add = await a("CccdModifyBlacklist", { SdkAppId: A, Add: ["008613900139000", "+86171*"] });
  assert.equal(add.err, undefined, add.message);
  assert.deepEqual(add.Entries, ["008613900139000", "0086171*"], "stored normalised");
  assert.deepEqual((await a("CccdDescribeBlacklist", { SdkAppId: A })).Entries, add.Entries);
  assert.equal((await a("CreateIVRSession", { SdkAppId: A, Callee: "008613900139000", IVRId: 1 })).err,
    "FailedOperation.CalleeIsBlackUser");
  assert.equal((await a("CreateIVRSession", { SdkAppId: A, Callee: "17100001111", IVRId: 1 })).err,
    "FailedOperation.CalleeIsBlackUser");
  const rm = await a("CccdModifyBlacklist", { SdkAppId: A, Remove: ["+86 139 0013 9000"] });
  assert.deepEqual(rm.Entries, ["0086171*"], "removed in any form");
  assert.equal(rm.err, undefined);
  assert.equal((await a("CreateIVRSession", { SdkAppId: A, Callee: "008613900139000", IVRId: 1 })).err, undefined);
  const badEntry = await a("CccdModifyBlacklist", { SdkAppId: A, Add: ["abc"] });
  assert.equal(badEntry.err, "InvalidParameterValue");
});

test("numbers: a tenant disables its number and binds it to an inbound IVR", async () => {
  const bad = await a("CccdModifyNumber", { SdkAppId: A, Number: "008601099999999", Enabled: false });
  assert.equal(bad.err, "InvalidParameterValue");
  const off = await a("CccdModifyNumber", { SdkAppId: A, Number: "008601012345678", Enabled: false });
  assert.equal(off.State, 4);
  assert.equal((await a("CreateIVRSession", { SdkAppId: A, Callee: "008613800138009", IVRId: 1 })).err,
    "FailedOperation.NoCallOutNumber");
  const on = await a("CccdModifyNumber", { SdkAppId: A, Number: "008601012345678", Enabled: true });
  assert.equal(on.State, 1);
  assert.equal((await a("CreateIVRSession", { SdkAppId: A, Callee: "008613800138009", IVRId: 1 })).err, undefined);
  assert.equal((await a("CccdModifyNumber", { SdkAppId: A, Number: "008601012345678", InboundIVRId: 7 })).err,
    "InvalidParameterValue", "IVR 7 is not an inbound IVR");
  const inbound = await a("CccdPutIVRFlow", { SdkAppId: A, IVRId: 8,
    Document: JSON.stringify({ type: "inbound", nodes: [{ id: "s", type: "start", next: "bye" }, { id: "bye", type: "hangup" }] }) });
  assert.equal(inbound.Type, "inbound");
  const bound = await a("CccdModifyNumber", { SdkAppId: A, Number: "008601012345678", InboundIVRId: 8 });
  assert.equal(bound.InboundIVRId, 8);
});

test("licences: an operator sets them on any instance; a tenant gets UnauthorizedOperation", async () => {
  const t = await a("CccdModifyInstance", { SdkAppId: A, AIChannels: 5 });
  assert.equal(t.err, "UnauthorizedOperation");
  const r = await op("CccdModifyInstance", { SdkAppId: B, Edition: "standard" });
  assert.equal(r.err, undefined, r.message);
  assert.equal(r.Edition, "standard");
  assert.equal((await b("CreateIVRSession", { SdkAppId: B, Callee: "008613800138000", IVRId: 1 })).err,
    "FailedOperation.PermissionDenied");
  await op("CccdModifyInstance", { SdkAppId: B, Edition: "advanced", PackageExpiresAt: 1000 });
  assert.equal((await b("CreateIVRSession", { SdkAppId: B, Callee: "008613800138000", IVRId: 1 })).err,
    "LimitExceeded.BasePackageExpired");
  await op("CccdModifyInstance", { SdkAppId: B, PackageExpiresAt: 0 });
  assert.equal((await b("CreateIVRSession", { SdkAppId: B, Callee: "008613800138000", IVRId: 1 })).err, undefined);

  const ai = JSON.stringify({ type: "autoOutbound", nodes: [
    { id: "s", type: "start", next: "ask" },
    { id: "ask", type: "speech", params: { prompt: { tts: "Yes?" }, url: "http://127.0.0.1:9/asr" },
      next: "bye", onFail: "bye" }, { id: "bye", type: "hangup" }] });
  const put = await b("CccdPutIVRFlow", { SdkAppId: B, IVRId: 2, Document: ai });
  assert.equal(put.UsesAI, true);
  assert.equal((await b("CreateIVRSession", { SdkAppId: B, Callee: "008613800138001", IVRId: 2 })).err,
    "FailedOperation.AIConcurrentNoPackage");
  const lic = await op("CccdModifyInstance", { SdkAppId: B, AIChannels: 1 });
  assert.equal(lic.AIChannels, 1);
  assert.equal((await b("CreateIVRSession", { SdkAppId: B, Callee: "008613800138001", IVRId: 2 })).err, undefined);
  assert.equal((await b("CreateIVRSession", { SdkAppId: B, Callee: "008613800138002", IVRId: 2 })).err,
    "FailedOperation.AIConcurrentOverFrequency");
  assert.equal((await op("CccdModifyInstance", { SdkAppId: 1400009999, AIChannels: 1 })).err,
    "InvalidParameterValue.InstanceNotExist");
  assert.equal((await op("CccdModifyInstance", { SdkAppId: B, Edition: "gold" })).err,
    "InvalidParameterValue");
});

test("an operator creates a tenant whose credential works at once; a tenant may not", async () => {
  const C = 1400004003;
  const t = await a("CccdCreateTenant", { SdkAppId: C, Numbers: ["008601012345670"] });
  assert.equal(t.err, "UnauthorizedOperation");
  const r = await op("CccdCreateTenant", { SdkAppId: C, Name: "tenant c", AIChannels: 2,
    Numbers: ["+86 10 1234 5670"], Rules: JSON.stringify({ work_time: { enabled: false } }) });
  assert.equal(r.err, undefined, r.message);
  assert.equal(r.SdkAppId, C);
  assert.match(r.SecretId, /^AKID/);
  const c = admin({ TENCENTCLOUD_SECRET_ID: r.SecretId, TENCENTCLOUD_SECRET_KEY: r.SecretKey });
  const put = await c("CccdPutIVRFlow", { SdkAppId: C, IVRId: 1, Document: FLOW("welcome") });
  assert.equal(put.Version, 1);
  assert.equal((await c("CreateIVRSession", { SdkAppId: C, Callee: "008613800138000", IVRId: 1 })).err, undefined);
  assert.equal((await c("CccdDescribeIVRFlows", { SdkAppId: A })).err, "InvalidParameterValue.InstanceNotExist");
  assert.equal((await op("CccdCreateTenant", { SdkAppId: C })).err, "InvalidParameterValue",
    "the instance exists");
  const bad = await op("CccdCreateTenant", { SdkAppId: 1400004004, Numbers: ["12ab"] });
  assert.equal(bad.err, "InvalidParameterValue");
  assert.match(bad.message, /Numbers\.0/);
  assert.equal((await op("CccdCreateTenant", { SdkAppId: 1400004004, Rules: "{\"x\": 1}" })).err,
    "InvalidParameterValue");
});

test("a tenant reads its licence and numbers; an operator any instance's; others are unknown", async () => {
  const i = await a("CccdDescribeInstance", { SdkAppId: A });
  assert.equal(i.err, undefined, i.message);
  assert.deepEqual([i.SdkAppId, i.Edition, i.PackageExpiresAt, i.AIChannels], [A, "advanced", 0, 0]);
  const n = await a("CccdDescribeNumbers", { SdkAppId: A });
  assert.equal(n.TotalCount, 1);
  assert.deepEqual(Object.keys(n.Numbers[0]).sort(), ["Class", "InboundIVRId", "Number", "Outbound", "State"]);
  assert.equal(n.Numbers[0].Number, "00861012345678");
  assert.equal((await b("CccdDescribeInstance", { SdkAppId: A })).err, "InvalidParameterValue.InstanceNotExist");
  assert.equal((await b("CccdDescribeNumbers", { SdkAppId: A })).err, "InvalidParameterValue.InstanceNotExist");
  assert.equal((await op("CccdDescribeInstance", { SdkAppId: B })).SdkAppId, B);
  assert.equal((await op("CccdDescribeNumbers", { SdkAppId: B })).Numbers[0].Number, "00861012345679");
  assert.equal((await op("CccdDescribeInstance", { SdkAppId: 1400009999 })).err,
    "InvalidParameterValue.InstanceNotExist");
});

test("concurrent changes never undo each other: blacklist edits, licence fields", async () => {
  const entries = Array.from({ length: 15 }, (_, k) => `0086139001390${String(k).padStart(2, "0")}`);
  const rs = await Promise.all(entries.map((e) => b("CccdModifyBlacklist", { SdkAppId: B, Add: [e] })));
  for (const r of rs) assert.equal(r.err, undefined, r.message);
  const got = (await b("CccdDescribeBlacklist", { SdkAppId: B })).Entries;
  assert.deepEqual([...got].sort(), [...entries].sort(), "every concurrent addition kept");
  await new Promise((r) => setTimeout(r, 1100)); // past the per-second rate limit
  const rm = await Promise.all(entries.slice(0, 10).map((e) => b("CccdModifyBlacklist", { SdkAppId: B, Remove: [e] })));
  for (const r of rm) assert.equal(r.err, undefined, r.message);
  assert.deepEqual([...(await b("CccdDescribeBlacklist", { SdkAppId: B })).Entries].sort(), entries.slice(10));

  // Different licence fields at once, each request naming only its own.
  const [x, y] = await Promise.all([op("CccdModifyInstance", { SdkAppId: B, AIChannels: 7 }),
    op("CccdModifyInstance", { SdkAppId: B, PackageExpiresAt: 4102444800 })]);
  assert.equal(x.err, undefined);
  assert.equal(y.err, undefined);
  const lic = await op("CccdDescribeInstance", { SdkAppId: B });
  assert.deepEqual([lic.AIChannels, lic.PackageExpiresAt], [7, 4102444800]);
  await op("CccdModifyInstance", { SdkAppId: B, PackageExpiresAt: 0 });
});

// `ccc admin instance-set` changes only the options it is given, in the same field-wise
// write as CccdModifyInstance: an operator's API edits made at the same moment survive.
test("instance-set next to API licence edits: every field given by either survives", async () => {
  const cli = (...args) => new Promise((resolve) => {
    execFile(CCC, ["admin", "--config", d.confPath, "instance-set", "--sdkappid", String(A), ...args],
      { cwd: ROOT, encoding: "utf8" }, (err, stdout, stderr) =>
        resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
  for (let k = 1; k <= 8; k++) {
    const record = k % 2 === 0;
    const edition = k % 2 === 0 ? "standard" : "advanced";
    const [c1, c2, r1, r2] = await Promise.all([
      cli("--record", record ? "yes" : "no"),
      cli("--ai-channels", String(100 + k)),
      op("CccdModifyInstance", { SdkAppId: A, PackageExpiresAt: 4102444800 + k }),
      op("CccdModifyInstance", { SdkAppId: A, Edition: edition })]);
    assert.equal(c1.code, 0, c1.stderr);
    assert.equal(c2.code, 0, c2.stderr);
    assert.equal(r1.err, undefined, r1.message);
    assert.equal(r2.err, undefined, r2.message);
    const i = await op("CccdDescribeInstance", { SdkAppId: A });
    assert.deepEqual([i.RecordCalls, i.AIChannels, i.PackageExpiresAt, i.Edition],
      [record, 100 + k, 4102444800 + k, edition], `round ${k}`);
    await new Promise((r) => setTimeout(r, 120)); // the operator's rate limit per action
  }
  // An option not given is not changed; the command prints the instance as it now is.
  const before = await op("CccdDescribeInstance", { SdkAppId: A });
  const out = await cli("--record", "no");
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, new RegExp(`^instance ${A}: edition standard, package expires 4102444808, ` +
    "AI channels 108, record no, retention days -1\n$"));
  const after = await op("CccdDescribeInstance", { SdkAppId: A });
  assert.deepEqual({ ...after, RequestId: 0 }, { ...before, RecordCalls: false, RequestId: 0 });

  // Bad values and usage errors: exit 2, the option named, nothing changed.
  for (const [args, msg] of [
    [["--ai-channels", "100001"], /bad --ai-channels '100001' \(0 to 100000\)/],
    [["--ai-channels", "-1"], /bad --ai-channels '-1'/],
    [["--ai-channels", "many"], /bad --ai-channels 'many'/],
    [["--edition", "gold"], /bad --edition 'gold' \(advanced or standard\)/],
    [["--record", "maybe"], /bad --record 'maybe' \(yes or no\)/],
    [["--package-expires", "soon"], /bad --package-expires 'soon'/],
    [["--package-expires", "9223372036854775808"], /bad --package-expires/],
    [["--record", "yes", "--ai-channels"], /--ai-channels needs a value/],
    [["--ai-chanels", "3"], /instance-set has no option --ai-chanels/],
    [["--record", "yes", "--record", "no"], /--record is given twice/],
    [[], /needs at least one of --edition, --package-expires, --ai-channels, --record/]]) {
    const r = spawnSync(CCC, ["admin", "--config", d.confPath, "instance-set", "--sdkappid", String(A),
      ...args], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, msg, args.join(" "));
  }
  const noId = spawnSync(CCC, ["admin", "--config", d.confPath, "instance-set", "--record", "yes"],
    { encoding: "utf8" });
  assert.equal(noId.status, 2);
  assert.match(noId.stderr, /needs --sdkappid/);
  const unknown = spawnSync(CCC, ["admin", "--config", d.confPath, "instance-set", "--sdkappid",
    "1400009999", "--record", "yes"], { encoding: "utf8" });
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /instance 1400009999: no such instance/);
  const last = await op("CccdDescribeInstance", { SdkAppId: A });
  assert.deepEqual({ ...last, RequestId: 0 }, { ...after, RequestId: 0 }, "the refused commands changed nothing");
  await op("CccdModifyInstance", { SdkAppId: A, Edition: "advanced", PackageExpiresAt: 0, AIChannels: 0 });
});

test("ccc call reaches the admin actions too", () => {
  const out = execFileSync(path.join(ROOT, "build", process.env.CCCD_BUILD || "release", "ccc"),
    ["call", "CccdDescribeIVRFlows", "--endpoint", d.endpoint, `SdkAppId=${A}`],
    { encoding: "utf8", env: { ...process.env, ...aCreds } });
  assert.equal(JSON.parse(out).Response.IVRs[0].IVRId, 1);
});
