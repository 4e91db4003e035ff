// Auto-callout tasks through the official SDK: CreateAutoCalloutTask with every field and
// every refused parameter (nothing stored on refusal), DescribeAutoCalloutTask(s) with the
// exact JSON types of the spec, and the states Pause / Resume / Stop allow.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT, startCccd, client, sipp, until } from "./lib/cccd.mjs";

const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));

let d, next = 1400015000;

before(async () => {
  d = await startCccd({ logLevel: "warn" });
});

after(async () => {
  await d?.stop();
  d?.cleanup();
});

const OPEN = { work_time: { enabled: false }, blind_area: { enabled: false },
  callee_interval: { max: 0, window_s: 300 }, callee_daily: { max: 0 },
  caller_freq: { max: 0, window_s: 0 }, caller_concurrency: 0,
  blacklist: { enabled: true, entries: [] } };

// Any action through the SDK's common client, the answer as sent (the SDK's models drop
// cccd's additions such as CccdPauseReason).
function rawClient(creds) {
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

// A tenant of its own: IVR 1 automatic outbound, 2 inbound, one caller number.
function tenant(extra = []) {
  const sdkappid = next++;
  const creds = d.tenant(["--sdkappid", String(sdkappid), "--ivr", "1:autoOutbound",
    "--ivr", "2:inbound", "--number", "008601012345678", ...extra]);
  return { sdkappid, api: client(creds, d.endpoint), raw: rawClient(creds) };
}

const FUTURE = Math.floor(Date.now() / 1000) + 86400 * 30;

const base = (t, more = {}) => ({ SdkAppId: t.sdkappid, NotBefore: FUTURE,
  Callees: ["008613800000001", "+8613800000002", "13800000003"],
  Callers: ["008601012345678"], IvrId: 1, ...more });

test("a task with every field is stored and described with the spec's types", async () => {
  const t = tenant();
  const r = await t.api.CreateAutoCalloutTask(base(t, {
    Name: "reminders", Description: "week 49", NotAfter: FUTURE + 3600, Tries: 3,
    Variables: [{ Key: "order", Value: "A1" }], UUI: "task-uui",
    CalleeAttributes: [{ Callee: "008613800000002", UUI: "own",
      Variables: [{ Key: "order", Value: "B2" }] }],
    TimeZone: "Asia/Shanghai",
    AvailableTime: [{ StartTime: "09:00:00", EndTime: "12:00:00" },
      { StartTime: "22:00:00", EndTime: "02:00:00" }],
    RetryInterval: 900, MaxRingTimeoutSecond: 40,
    RetryHangupTypes: ["202", "206"], ConcurrencyLimit: 5,
    RetryTags: ["x"], AvailableWorkTimeConfig: { Anything: 1 }, TriggerStrategy: 1,
  }));
  assert.equal(r.err, undefined, r.message);
  assert.equal(typeof r.TaskId, "number");
  const g = await t.api.DescribeAutoCalloutTask({ SdkAppId: t.sdkappid, TaskId: r.TaskId });
  assert.equal(g.err, undefined, g.message);
  assert.equal(g.Name, "reminders");
  assert.equal(g.Description, "week 49");
  assert.equal(g.NotBefore, FUTURE);
  assert.equal(g.NotAfter, FUTURE + 3600);
  // Numbers are kept as the instance's rules normalise them (trunk 0 dropped).
  assert.deepEqual(g.Callers, ["00861012345678"]);
  assert.equal(g.IvrId, 1);
  assert.equal(g.State, 0);
  assert.equal(g.MaxRingTimeoutSecond, 40);
  const w = await t.raw("DescribeAutoCalloutTask", { SdkAppId: t.sdkappid, TaskId: r.TaskId });
  assert.equal(w.CccdPauseReason, "");
  // Numbers stored in the 00 form, in request order, none called yet.
  assert.deepEqual(g.Callees.map((c) => ({ ...c })), [
    { Callee: "008613800000001", State: 0, Sessions: [] },
    { Callee: "008613800000002", State: 0, Sessions: [] },
    { Callee: "008613800000003", State: 0, Sessions: [] },
  ]);
});

test("a task without NotAfter describes it as null; the list pages by PageNumber", async () => {
  const t = tenant();
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const r = await t.api.CreateAutoCalloutTask(base(t, { Name: `t${i}` }));
    assert.equal(r.err, undefined, r.message);
    ids.push(r.TaskId);
  }
  const g = await t.api.DescribeAutoCalloutTask({ SdkAppId: t.sdkappid, TaskId: ids[0] });
  assert.equal(g.NotAfter, null);
  const p = await t.api.DescribeAutoCalloutTasks({ SdkAppId: t.sdkappid, PageSize: 2,
    PageNumber: 1 });
  assert.equal(p.err, undefined, p.message);
  assert.equal(p.TotalCount, 3);
  assert.equal(p.Tasks.length, 1);
  assert.deepEqual({ ...p.Tasks[0] }, { Name: "t2", CalleeCount: 3, Callers: ["00861012345678"],
    NotBefore: FUTURE, NotAfter: null, IvrId: 1, State: 0, TaskId: ids[2],
    MaxRingTimeoutSecond: 0 });
  const w = await t.raw("DescribeAutoCalloutTasks", { SdkAppId: t.sdkappid, PageSize: 2,
    PageNumber: 1 });
  assert.equal(w.Tasks[0].CccdPauseReason, "");
  // Another tenant sees neither the tasks nor the task.
  const o = tenant();
  const n = await o.api.DescribeAutoCalloutTasks({ SdkAppId: o.sdkappid, PageSize: 10,
    PageNumber: 0 });
  assert.equal(n.TotalCount, 0);
  assert.deepEqual(n.Tasks, []);
  const x = await o.api.DescribeAutoCalloutTask({ SdkAppId: o.sdkappid, TaskId: ids[0] });
  assert.equal(x.err, "InvalidParameterValue");
  assert.match(x.message, /TaskId/);
  const y = await o.api.DescribeAutoCalloutTask({ SdkAppId: t.sdkappid, TaskId: ids[0] });
  assert.equal(y.err, "InvalidParameterValue.InstanceNotExist");
});

test("every refused parameter names itself, and nothing is stored", async () => {
  const std = tenant(["--edition", "standard"]);
  const used = [];
  const cases = [
    [{ Callees: undefined }, "MissingParameter", /Callees/],
    [{ Callers: undefined }, "MissingParameter", /Callers/],
    [{ NotBefore: undefined }, "MissingParameter", /NotBefore/],
    [{ IvrId: undefined }, "MissingParameter", /IvrId/],
    [{ IvrId: undefined, AIAgentId: 7 }, "InvalidParameterValue", /AIAgentId/],
    [{ Callees: [] }, "InvalidParameterValue", /Callees/],
    [{ Callers: [] }, "InvalidParameterValue", /Callers/],
    [{ Callees: ["0086138000000x1"] }, "InvalidParameterValue", /Callees\.0/],
    [{ Callees: ["008613800000001", "+8613800000001"] }, "InvalidParameterValue", /twice/],
    [{ Callers: ["abc"] }, "InvalidParameterValue", /Callers\.0/],
    [{ IvrId: 99 }, "InvalidParameterValue", /IvrId/],
    [{ IvrId: 2 }, "InvalidParameterValue", /automatic outbound/],
    [{ Tries: 0 }, "InvalidParameterValue", /Tries/],
    [{ Tries: 4 }, "InvalidParameterValue", /Tries/],
    [{ RetryInterval: 599 }, "InvalidParameterValue", /RetryInterval/],
    [{ RetryInterval: 86401 }, "InvalidParameterValue", /RetryInterval/],
    [{ NotAfter: FUTURE }, "InvalidParameterValue", /NotAfter/],
    [{ NotBefore: -1 }, "InvalidParameterValue", /NotBefore/],
    [{ TimeZone: "Mars/Olympus" }, "InvalidParameterValue", /TimeZone/],
    [{ AvailableTime: [{ StartTime: "9:00", EndTime: "12:00:00" }] }, "InvalidParameterValue",
      /AvailableTime\.0\.StartTime/],
    [{ AvailableTime: [{ StartTime: "09:00:00", EndTime: "24:00:00" }] },
      "InvalidParameterValue", /AvailableTime\.0\.EndTime/],
    [{ AvailableTime: [{ StartTime: "09:00:00", EndTime: "09:00:00" }] },
      "InvalidParameterValue", /AvailableTime\.0/],
    [{ AvailableTime: [{ StartTime: "09:00:00" }] }, "MissingParameter",
      /AvailableTime\.0\.EndTime/],
    [{ MaxRingTimeoutSecond: 0 }, "InvalidParameterValue", /MaxRingTimeoutSecond/],
    [{ Variables: [{ Key: "1x", Value: "v" }] }, "InvalidParameterValue", /Variables\.0\.Key/],
    [{ Variables: [{ Key: "a", Value: "1" }, { Key: "a", Value: "2" }] },
      "InvalidParameterValue", /Variables/],
    [{ UUI: "u".repeat(1025) }, "InvalidParameterValue", /UUI/],
    [{ CalleeAttributes: [{ Callee: "008613900000000" }] }, "InvalidParameterValue",
      /CalleeAttributes\.0\.Callee/],
    [{ CalleeAttributes: [{ Callee: "008613800000001" }, { Callee: "+8613800000001" }] },
      "InvalidParameterValue", /two entries/],
    [{ CalleeAttributes: [{ UUI: "x" }] }, "MissingParameter", /CalleeAttributes\.0\.Callee/],
    [{ RetryHangupTypes: ["1"] }, "InvalidParameterValue", /RetryHangupTypes\.0/],
    [{ RetryHangupTypes: ["209"] }, "InvalidParameterValue", /RetryHangupTypes\.0/],
    [{ ConcurrencyLimit: 0 }, "InvalidParameterValue", /ConcurrencyLimit/],
    [{ Tries: "x" }, "InvalidParameter", /Tries/],
    [{ Bogus: 1 }, "UnknownParameter", /Bogus/],
  ];
  let t;
  for (const [i, [more, code, re]] of cases.entries()) {
    // Over 20 requests/s per account would be RequestLimitExceeded: a tenant per 15.
    if (i % 15 === 0) used.push(t = tenant());
    const req = base(t, more);
    for (const k of Object.keys(req)) if (req[k] === undefined) delete req[k];
    const r = await t.api.CreateAutoCalloutTask(req);
    assert.equal(r.err, code, `${JSON.stringify(more)}: ${r.message}`);
    assert.match(r.message, re, JSON.stringify(more));
  }
  const s = await std.api.CreateAutoCalloutTask(base(std));
  assert.equal(s.err, "FailedOperation.PermissionDenied");
  const u = await t.api.CreateAutoCalloutTask(base(t, { SdkAppId: 1 }));
  assert.equal(u.err, "InvalidParameterValue.InstanceNotExist");
  for (const x of [...used, std]) {
    const l = await x.api.DescribeAutoCalloutTasks({ SdkAppId: x.sdkappid, PageSize: 10,
      PageNumber: 0 });
    assert.equal(l.TotalCount, 0);
  }
  for (const [req, re] of [[{ PageSize: 0, PageNumber: 0 }, /PageSize/],
    [{ PageSize: 101, PageNumber: 0 }, /PageSize/]]) {
    const r = await t.api.DescribeAutoCalloutTasks({ SdkAppId: t.sdkappid, ...req });
    assert.equal(r.err, "InvalidParameterValue");
    assert.match(r.message, re);
  }
});

test("Pause, Resume and Stop change the states they allow, UnsupportedOperation otherwise",
  async () => {
    const t = tenant();
    const { TaskId } = await t.api.CreateAutoCalloutTask(base(t));
    const id = { SdkAppId: t.sdkappid, TaskId };
    const state = async () => (await t.api.DescribeAutoCalloutTask(id)).State;
    assert.equal((await t.api.ResumeAutoCalloutTask(id)).err, "UnsupportedOperation");
    assert.equal((await t.api.PauseAutoCalloutTask(id)).err, undefined);
    assert.equal(await state(), 5);
    assert.equal((await t.api.PauseAutoCalloutTask(id)).err, "UnsupportedOperation");
    // Resumed before NotBefore: created, not running.
    assert.equal((await t.api.ResumeAutoCalloutTask(id)).err, undefined);
    assert.equal(await state(), 0);
    assert.equal((await t.api.StopAutoCalloutTask(id)).err, undefined);
    assert.equal(await state(), 4);
    for (const a of ["StopAutoCalloutTask", "PauseAutoCalloutTask", "ResumeAutoCalloutTask"]) {
      const r = await t.api[a](id);
      assert.equal(r.err, "UnsupportedOperation", a);
      assert.match(r.message, new RegExp(String(TaskId)));
    }
    const g = await t.api.DescribeAutoCalloutTask(id);
    assert.ok(g.Callees.every((c) => c.State === 0 && c.Sessions.length === 0));
    const u = await t.api.StopAutoCalloutTask({ SdkAppId: t.sdkappid, TaskId: 999999 });
    assert.equal(u.err, "InvalidParameterValue");
  });

// The scheduler against sipp callees: 0086138… answer, 0086139… are busy. One callee is
// blacklisted (EndStatus 108, never dialled) and one is over its daily cap (109). The
// retry interval is shortened by the test-only [tasks] test_retry_interval.
test("a running task calls every callee, retries only the busy ones Tries times, records carry the variables",
  async () => {
    const answer = await sipp(path.join(ROOT, "tests/sip/uas_answer_bye.xml"));
    const busy = await sipp(path.join(ROOT, "tests/sip/uas_busy.xml"));
    const e = await startCccd({ logLevel: "info", sections:
      `[trunk answer]\nhost = 127.0.0.1\nport = ${answer.port}\ntransport = udp\n` +
      "route = 0086138\noptions_interval = 0\n" +
      `[trunk busy]\nhost = 127.0.0.1\nport = ${busy.port}\ntransport = udp\n` +
      "route = 0086139\noptions_interval = 0\n" +
      "[tasks]\ntick_ms = 200\ntest_retry_interval = 1\n" });
    try {
      const sdkappid = 1400015900;
      const rules = path.join(e.dir, "rules.json");
      fs.writeFileSync(rules, JSON.stringify({ ...OPEN, callee_daily: { max: 2 },
        blacklist: { enabled: true, entries: ["008613700000009"] } }));
      const creds = e.tenant(["--sdkappid", String(sdkappid), "--ivr", "1:autoOutbound",
        "--number", "008601012345678", "--rules", rules]);
      const api = client(creds, e.endpoint);
      // 008613800000003 is called twice today already: at its daily cap of 2 (the busy
      // callee's two tries fit under it).
      for (let i = 0; i < 2; i++) {
        const first = await api.CreateIVRSession({ SdkAppId: sdkappid,
          Callee: "008613800000003", IVRId: 1 });
        assert.equal(first.err, undefined, first.message);
      }
      const callees = ["008613800000001", "008613800000002", "008613900000001",
        "008613700000009", "008613800000003"];
      const r = await api.CreateAutoCalloutTask({ SdkAppId: sdkappid,
        NotBefore: Math.floor(Date.now() / 1000), Callees: callees,
        Callers: ["008601012345678"], IvrId: 1, Tries: 2, RetryInterval: 600,
        Variables: [{ Key: "order", Value: "A1" }], UUI: "task-uui",
        CalleeAttributes: [{ Callee: "008613800000002", UUI: "own",
          Variables: [{ Key: "order", Value: "B2" }] }] });
      assert.equal(r.err, undefined, r.message);
      const id = { SdkAppId: sdkappid, TaskId: r.TaskId };
      const done = await until(async () => {
        const g = await api.DescribeAutoCalloutTask(id);
        return g.State === 2 ? g : null;
      }, 60000, 300, "the task completed");
      const by = Object.fromEntries(done.Callees.map((c) => [c.Callee, c]));
      assert.equal(by["008613800000001"].State, 1);
      assert.equal(by["008613800000001"].Sessions.length, 1);
      assert.equal(by["008613800000002"].State, 1);
      assert.equal(by["008613900000001"].State, 2);
      assert.equal(by["008613900000001"].Sessions.length, 2, "busy: tried Tries (2) times");
      assert.equal(by["008613700000009"].State, 2);
      assert.equal(by["008613700000009"].Sessions.length, 1, "blocked: one try, not retried");
      assert.equal(by["008613800000003"].State, 2);
      assert.equal(by["008613800000003"].Sessions.length, 1);

      const now = Math.floor(Date.now() / 1000);
      const cdr = await api.DescribeTelCdr({ SdkAppId: sdkappid, StartTimeStamp: now - 3600,
        EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0 });
      assert.equal(cdr.err, undefined, cdr.message);
      const rec = Object.fromEntries(cdr.TelCdrList.map((c) => [c.SessionId, c]));
      const one = rec[by["008613800000001"].Sessions[0]];
      assert.equal(one.EndStatus, 1);
      assert.equal(one.UUI, "task-uui");
      const two = rec[by["008613800000002"].Sessions[0]];
      assert.equal(two.UUI, "own");
      for (const sid of by["008613900000001"].Sessions) assert.equal(rec[sid].EndStatus, 206);
      assert.equal(rec[by["008613700000009"].Sessions[0]].EndStatus, 108);
      assert.equal(rec[by["008613800000003"].Sessions[0]].EndStatus, 109);
    } finally {
      await e.stop();
      e.cleanup();
      await answer.stop();
      await busy.stop();
    }
  });
