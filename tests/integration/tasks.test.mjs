// Auto-callout tasks through the official SDK: CreateAutoCalloutTask with every field and
// every refused parameter (nothing stored on refusal), DescribeAutoCalloutTask(s) with the
// exact JSON types of the spec, and the states Pause / Resume / Stop allow.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT, startCccd, client, sipp, until, sleep } from "./lib/cccd.mjs";

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

// A trunk peer that records every INVITE it receives (one per Call-ID: retransmissions
// are not calls) and answers 100, then its `status` (486 Busy Here) after holdMs.
function busyPeer(holdMs) {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const seen = new Set();
    const invites = [];
    s.on("message", (m, from) => {
      const t = m.toString("latin1");
      const inv = /^INVITE sip:(\d+)@/.exec(t);
      const id = (/^Call-ID:\s*(\S+)/im.exec(t) || [])[1];
      if (!inv || !id || seen.has(id)) return;
      seen.add(id);
      invites.push(inv[1]);
      const h = (n) => (new RegExp(`^${n}:.*$`, "im").exec(t) || [""])[0];
      const reply = (line, tag) => s.send([line, h("Via"), h("From"), tag ?
        `${h("To")};tag=${id.slice(0, 8)}` : h("To"), h("Call-ID"), h("CSeq"),
      "Content-Length: 0", "", ""].join("\r\n"), from.port, from.address);
      reply("SIP/2.0 100 Trying", false);
      setTimeout(() => reply(`SIP/2.0 ${peer.status}`, true), holdMs);
    });
    const peer = { invites, status: "486 Busy Here",
      close: () => new Promise((r) => s.close(r)) };
    s.bind(0, "127.0.0.1", () => resolve(Object.assign(peer, { port: s.address().port })));
  });
}

// One cccd with a busy peer, paced to `cps` new task calls per second, and a tenant.
async function paced(peer, cps, more = "") {
  const e = await startCccd({ logLevel: "info", sections:
    `[trunk peer]\nhost = 127.0.0.1\nport = ${peer.port}\ntransport = udp\nroute = *\n` +
    `options_interval = 0\n[tasks]\ntick_ms = 250\ncalls_per_second = ${cps}\n${more}` });
  const sdkappid = 1400015950;
  const rules = path.join(e.dir, "rules.json");
  fs.writeFileSync(rules, JSON.stringify(OPEN));
  const creds = e.tenant(["--sdkappid", String(sdkappid), "--ivr", "1:autoOutbound",
    "--number", "008601012345678", "--rules", rules]);
  return { e, sdkappid, api: client(creds, e.endpoint) };
}

const numbers = (n, base = 13500000000) =>
  Array.from({ length: n }, (_, i) => `0086${base + i}`);
const called = (g) => g.Callees.filter((c) => c.Sessions.length > 0).length;

test("pause stops new attempts at once, resume continues, stop leaves the rest uncalled",
  async () => {
    const peer = await busyPeer(200);
    const { e, sdkappid, api } = await paced(peer, 4);
    try {
      const r = await api.CreateAutoCalloutTask({ SdkAppId: sdkappid,
        NotBefore: Math.floor(Date.now() / 1000), Callees: numbers(40),
        Callers: ["008601012345678"], IvrId: 1 });
      assert.equal(r.err, undefined, r.message);
      const id = { SdkAppId: sdkappid, TaskId: r.TaskId };
      await until(async () => called(await api.DescribeAutoCalloutTask(id)) >= 2, 20000, 100,
        "first attempts");
      assert.equal((await api.PauseAutoCalloutTask(id)).err, undefined);
      // A tick already past its read of running tasks may still place its claim.
      await sleep(400);
      const atPause = called(await api.DescribeAutoCalloutTask(id));
      await sleep(1500);
      const paused = await api.DescribeAutoCalloutTask(id);
      assert.equal(paused.State, 5);
      assert.equal(called(paused), atPause, "nothing placed while paused");
      assert.equal((await api.ResumeAutoCalloutTask(id)).err, undefined);
      await until(async () => called(await api.DescribeAutoCalloutTask(id)) >= atPause + 2,
        20000, 100, "attempts after resume");
      assert.equal((await api.StopAutoCalloutTask(id)).err, undefined);
      await sleep(400);
      const atStop = called(await api.DescribeAutoCalloutTask(id));
      await sleep(1500);
      const g = await api.DescribeAutoCalloutTask(id);
      assert.equal(g.State, 4);
      assert.equal(called(g), atStop, "nothing placed after stop");
      assert.ok(atStop < 40, `stopped before the end (${atStop} called)`);
      const rest = g.Callees.filter((c) => c.Sessions.length === 0);
      assert.ok(rest.length > 0 && rest.every((c) => c.State === 0));
      assert.equal(peer.invites.length, atStop, "one INVITE per attempt");
      assert.equal(new Set(peer.invites).size, atStop, "no callee called twice");
    } finally {
      await e.stop();
      e.cleanup();
      await peer.close();
    }
  });

test("a closed window dials nothing until it opens", async () => {
  const peer = await busyPeer(100);
  const { e, sdkappid, api } = await paced(peer, 10);
  try {
    // The window opens 4 s from now (UTC) and lasts an hour.
    const at = (ms) => new Date(ms).toISOString().slice(11, 19);
    const opens = Math.floor((Date.now() + 4000) / 1000) * 1000; // windows are whole seconds
    const r = await api.CreateAutoCalloutTask({ SdkAppId: sdkappid,
      NotBefore: Math.floor(Date.now() / 1000), Callees: numbers(3),
      Callers: ["008601012345678"], IvrId: 1, TimeZone: "UTC",
      AvailableTime: [{ StartTime: at(opens), EndTime: at(opens + 3600 * 1000) }] });
    assert.equal(r.err, undefined, r.message);
    const id = { SdkAppId: sdkappid, TaskId: r.TaskId };
    await sleep(2000);
    const closed = await api.DescribeAutoCalloutTask(id);
    assert.equal(closed.State, 1);
    assert.equal(called(closed), 0);
    assert.equal(peer.invites.length, 0);
    const done = await until(async () => {
      const g = await api.DescribeAutoCalloutTask(id);
      return g.State === 2 ? g : null;
    }, 30000, 200, "the task completed once the window opened");
    assert.ok(Date.now() >= opens);
    assert.equal(called(done), 3);
    assert.equal(peer.invites.length, 3);
  } finally {
    await e.stop();
    e.cleanup();
    await peer.close();
  }
});

test("a task paced at 150/s places more than one claim's 64 in its first second", async () => {
  // tick_ms 1000: the old scheduler took at most 64 callees of a task per tick.
  const peer = await busyPeer(20);
  const e = await startCccd({ logLevel: "warn", sections:
    `[trunk peer]\nhost = 127.0.0.1\nport = ${peer.port}\ntransport = udp\nroute = *\n` +
    "options_interval = 0\n[tasks]\ntick_ms = 1000\ncalls_per_second = 150\nmax_calls = 1000\n" });
  try {
    const sdkappid = 1400015960;
    const rules = path.join(e.dir, "rules.json");
    fs.writeFileSync(rules, JSON.stringify(OPEN));
    const creds = e.tenant(["--sdkappid", String(sdkappid), "--ivr", "1:autoOutbound",
      "--number", "008601012345678", "--rules", rules]);
    const api = client(creds, e.endpoint);
    const r = await api.CreateAutoCalloutTask({ SdkAppId: sdkappid,
      NotBefore: Math.floor(Date.now() / 1000), Callees: numbers(400),
      Callers: ["008601012345678"], IvrId: 1 });
    assert.equal(r.err, undefined, r.message);
    const placed = () => Number(e.sql(`SELECT count(*) FROM sessions WHERE task_id = ${r.TaskId}`));
    await until(() => placed() > 0, 20000, 20, "the first attempt");
    await sleep(800);
    // One tick's 150 (the next tick, a second after the first, may have begun).
    const first = placed();
    assert.ok(first > 100 && first <= 300, `attempts in the first second: ${first}`);
    assert.equal((await api.StopAutoCalloutTask({ SdkAppId: sdkappid, TaskId: r.TaskId })).err,
      undefined);
  } finally {
    await e.stop();
    e.cleanup();
    await peer.close();
  }
});

test("two tasks of one instance share its calls_per_second evenly", async () => {
  const peer = await busyPeer(20);
  const { e, sdkappid, api } = await paced(peer, 6);
  try {
    const now = Math.floor(Date.now() / 1000);
    const ids = [];
    for (const base of [13500000000, 13600000000]) {
      const r = await api.CreateAutoCalloutTask({ SdkAppId: sdkappid, NotBefore: now,
        Callees: numbers(60, base), Callers: ["008601012345678"], IvrId: 1 });
      assert.equal(r.err, undefined, r.message);
      ids.push(r.TaskId);
    }
    await sleep(4000);
    const n = ids.map((id) => Number(e.sql(`SELECT count(*) FROM sessions WHERE task_id = ${id}`)));
    // 6/s at ticks of 250 ms: a tick's 1 or 2 calls go to the tasks in turn.
    assert.ok(n[0] >= 6 && n[1] >= 6 && Math.abs(n[0] - n[1]) <= 3, `attempts: ${n}`);
    for (const id of ids) await api.StopAutoCalloutTask({ SdkAppId: sdkappid, TaskId: id });
  } finally {
    await e.stop();
    e.cleanup();
    await peer.close();
  }
});

test("callee-local windows: a callee whose zone is outside the window waits for its opening",
  async () => {
    const peer = await busyPeer(20);
    // 0086135: Tokyo (UTC+9); 0086136: UTC by the table; 0086137: no prefix, the task's
    // zone (UTC).
    const { e, sdkappid, api } = await paced(peer, 10,
      "zone_prefix = +86135 Asia/Tokyo\nzone_prefix = 0086136 Etc/UTC\n");
    try {
      // A window from an hour ago to an hour ahead on the UTC clock: open in UTC, closed
      // in Tokyo, where it next opens 14 h from now.
      const at = (ms) => new Date(ms).toISOString().slice(11, 19);
      const now = Math.floor(Date.now() / 1000);
      const r = await api.CreateAutoCalloutTask({ SdkAppId: sdkappid, NotBefore: now,
        Callees: ["008613500000001", "008613600000001", "008613700000001"],
        Callers: ["008601012345678"], IvrId: 1, TimeZone: "UTC",
        AvailableTime: [{ StartTime: at((now - 3600) * 1000), EndTime: at((now + 3600) * 1000) }] });
      assert.equal(r.err, undefined, r.message);
      const id = { SdkAppId: sdkappid, TaskId: r.TaskId };
      const g = await until(async () => {
        const x = await api.DescribeAutoCalloutTask(id);
        return x.Callees.filter((c) => c.State === 2).length === 2 ? x : null;
      }, 20000, 200, "the two callees inside their window called");
      await sleep(1000);
      const by = Object.fromEntries(g.Callees.map((c) => [c.Callee.slice(0, 7), c]));
      assert.equal(by["0086136"].Sessions.length, 1);
      assert.equal(by["0086137"].Sessions.length, 1);
      assert.deepEqual(peer.invites.map((n) => /13[5-7]0{7}1$/.exec(n)?.[0]).sort(),
        ["13600000001", "13700000001"]);
      const tokyo = (await api.DescribeAutoCalloutTask(id)).Callees.find((c) =>
        c.Callee.startsWith("0086135"));
      assert.equal(tokyo.State, 0);
      assert.equal(tokyo.Sessions.length, 0);
      const [due, tries] = e.sql(`SELECT due, tries FROM task_callees WHERE task_id = ${r.TaskId} ` +
        "AND callee LIKE '0086135%'").split("|").map(Number);
      assert.equal(tries, 0, "no try burnt");
      assert.ok(Math.abs(due - (now + 14 * 3600)) <= 5, `due ${due - now} s from now`);
    } finally {
      await e.stop();
      e.cleanup();
      await peer.close();
    }
  });

test("kill -9 while a task runs: after the restart no callee got two calls for one try, none was skipped, the task completes",
  async () => {
    const peer = await busyPeer(5000);
    // resume_max_age = 0: a session dialled before the kill is never dialled again once
    // it is a second old (ages are whole seconds: one started in the second of the
    // restart counts 0, not older than 0).
    const { e, sdkappid, api } = await paced(peer, 2, "[session]\nstop_wait = 2\n" +
      "resume_max_age = 0\n");
    try {
      const r = await api.CreateAutoCalloutTask({ SdkAppId: sdkappid,
        NotBefore: Math.floor(Date.now() / 1000), Callees: numbers(12),
        Callers: ["008601012345678"], IvrId: 1 });
      assert.equal(r.err, undefined, r.message);
      const id = { SdkAppId: sdkappid, TaskId: r.TaskId };
      await until(() => peer.invites.length >= 3, 20000, 50, "calls in progress");
      // The dialled mark is queued as the INVITE leaves (durable before it is #14's):
      // paused, so that no INVITE leaves between the check below and the kill, and
      // killed once the INVITEs seen are marked on disk and over a second old, with calls
      // in progress.
      assert.equal((await api.PauseAutoCalloutTask(id)).err, undefined);
      await sleep(2500);
      const before = peer.invites.length;
      await until(() => Number(e.sql("SELECT count(*) FROM sessions WHERE task_id <> 0 " +
        "AND dialled_ms <> 0")) >= before, 10000, 50, "dialled marks on disk");
      await e.kill();
      assert.equal(peer.invites.length, before);
      await e.start();
      assert.equal((await api.ResumeAutoCalloutTask(id)).err, undefined);
      const done = await until(async () => {
        const g = await api.DescribeAutoCalloutTask(id);
        return g && g.State === 2 ? g : null;
      }, 60000, 300, "the task completed after the restart");
      assert.ok(before < 12, "killed mid-task");
      // Every callee tried once (Tries 1), none skipped, and the peer saw at most one
      // INVITE per try (none for a try cut before it left).
      const digits = (x) => x.replace(/^0*/, "");
      let matched = 0;
      for (const c of done.Callees) {
        assert.equal(c.Sessions.length, 1, JSON.stringify(c));
        const n = peer.invites.filter((x) => digits(x) === digits(c.Callee)).length;
        assert.ok(n <= 1, `${c.Callee}: ${n} INVITEs for one try`);
        matched += n;
      }
      assert.equal(matched, peer.invites.length, peer.invites.join(" "));
      assert.ok(peer.invites.length >= 12 - before, `INVITEs: ${peer.invites.length}`);
    } finally {
      await e.stop();
      e.cleanup();
      await peer.close();
    }
  });

test("a trunk refusing the calls (403) pauses the task with the reason and burns no try",
  async () => {
    const peer = await busyPeer(50);
    peer.status = "403 Forbidden";
    const { e, sdkappid, api } = await paced(peer, 1);
    try {
      const r = await api.CreateAutoCalloutTask({ SdkAppId: sdkappid,
        NotBefore: Math.floor(Date.now() / 1000), Callees: numbers(3),
        Callers: ["008601012345678"], IvrId: 1, Tries: 1 });
      assert.equal(r.err, undefined, r.message);
      const id = { SdkAppId: sdkappid, TaskId: r.TaskId };
      const paused = await until(async () => {
        const g = await api.DescribeAutoCalloutTask(id);
        return g.State === 5 ? g : null;
      }, 20000, 100, "the task paused itself");
      await e.waitLog(/task \d+ paused: the trunk refused the calls: 403 Forbidden/);
      await sleep(1500);
      const atPause = peer.invites.length;
      assert.ok(atPause <= 2, `INVITEs before the pause took: ${atPause}`);
      assert.ok(paused.Callees.every((c) => c.State === 0), JSON.stringify(paused.Callees));
      // The operator fixes the trunk and resumes: every callee gets its one real try.
      peer.status = "486 Busy Here";
      assert.equal((await api.ResumeAutoCalloutTask(id)).err, undefined);
      const done = await until(async () => {
        const g = await api.DescribeAutoCalloutTask(id);
        return g.State === 2 ? g : null;
      }, 30000, 200, "the task completed after resume");
      assert.ok(done.Callees.every((c) => c.State === 2), JSON.stringify(done.Callees));
      assert.equal(peer.invites.length, atPause + 3);
    } finally {
      await e.stop();
      e.cleanup();
      await peer.close();
    }
  });

// 30 callees, five outcomes from five sipp peers chosen by prefix: answered (0086138),
// answered and key 5 pressed in the IVR's menu over SIP INFO (0086135), busy (0086139),
// no answer within MaxRingTimeoutSecond (0086137), not found (0086136). Tries 2: only
// the retryable outcomes are tried twice, never more; every attempt's record and CDR push
// carries the task's UUI, and the key presses reach the records.
test("30 callees with mixed outcomes: states, Sessions, retries only for retryable outcomes, keys, records and pushes",
  async () => {
    const peers = {
      138: await sipp(path.join(ROOT, "tests/sip/uas_answer_bye.xml")),
      135: await sipp(path.join(ROOT, "tests/sip/uas_answer_info.xml")),
      139: await sipp(path.join(ROOT, "tests/sip/uas_busy.xml")),
      137: await sipp(path.join(ROOT, "tests/sip/uas_noanswer.xml")),
      136: await sipp(path.join(ROOT, "tests/sip/uas_notfound.xml")),
    };
    const pushes = [];
    const sink = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => { body += c; });
      req.on("end", () => {
        pushes.push({ action: new URL(req.url, "http://x").searchParams.get("action"),
          body: JSON.parse(body) });
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end('{"ErrCode":0,"ErrMsg":"ok"}');
      });
    });
    await new Promise((r) => sink.listen(0, "127.0.0.1", r));
    const trunks = Object.entries(peers).map(([p, peer]) =>
      `[trunk t${p}]\nhost = 127.0.0.1\nport = ${peer.port}\ntransport = udp\n` +
      `route = 0086${p}\noptions_interval = 0\n`).join("");
    const e = await startCccd({ logLevel: "info", sections: trunks +
      "[tasks]\ntick_ms = 200\ncalls_per_second = 20\ntest_retry_interval = 1\n" });
    try {
      const sdkappid = 1400015990;
      const rules = path.join(e.dir, "rules.json");
      fs.writeFileSync(rules, JSON.stringify(OPEN));
      // A menu that waits for a key: 5 is taken, then the callee hangs up.
      fs.writeFileSync(path.join(e.dir, "1.json"), JSON.stringify({ ivrId: 1, name: "menu",
        type: "autoOutbound", start: "s", nodes: [
          { id: "s", type: "start", next: "m" },
          { id: "m", type: "menu", label: "key menu", params: {
            prompt: { tts: "Press five." }, timeoutMs: 8000, retries: 0,
            keys: { 5: { label: "five", next: "hold" } } }, onTimeout: "bye", onInvalid: "bye" },
          { id: "hold", type: "prompt", params: { tts: "Thank you. Please hold the line.",
            plays: 10, interruptible: false }, next: "bye" },
          { id: "bye", type: "hangup" }] }));
      const creds = e.tenant(["--sdkappid", String(sdkappid), "--ivr",
        `1:autoOutbound:${e.dir}/1.json`, "--number", "008601012345678", "--rules", rules]);
      e.ccc(["push", "config", "--config", e.confPath, "--sdkappid", String(sdkappid),
        "--url", `http://127.0.0.1:${sink.address().port}/push`, "--events", "cdr,event"]);
      const api = client(creds, e.endpoint);
      const kinds = { 138: 6, 135: 4, 139: 8, 137: 6, 136: 6 };
      const callees = Object.entries(kinds).flatMap(([p, n]) =>
        Array.from({ length: n }, (_, i) => `0086${p}0000${String(i).padStart(4, "0")}`));
      assert.equal(callees.length, 30);
      const r = await api.CreateAutoCalloutTask({ SdkAppId: sdkappid,
        NotBefore: Math.floor(Date.now() / 1000), Callees: callees,
        Callers: ["008601012345678"], IvrId: 1, Tries: 2, RetryInterval: 600,
        MaxRingTimeoutSecond: 2, UUI: "task-uui",
        Variables: [{ Key: "campaign", Value: "w49" }] });
      assert.equal(r.err, undefined, r.message);
      const id = { SdkAppId: sdkappid, TaskId: r.TaskId };
      const done = await until(async () => {
        const g = await api.DescribeAutoCalloutTask(id);
        return g.State === 2 ? g : null;
      }, 90000, 500, "the task completed");
      const want = { 138: [1, 1, [1]], 135: [1, 1, [1]], 139: [2, 2, [206]],
        137: [2, 2, [202]], 136: [2, 2, [205]] };
      const ids = [];
      for (const c of done.Callees) {
        const [state, n] = want[c.Callee.slice(4, 7)];
        assert.equal(c.State, state, JSON.stringify(c));
        assert.equal(c.Sessions.length, n, JSON.stringify(c));
        ids.push(...c.Sessions);
      }
      assert.equal(new Set(ids).size, 10 + 2 * 20);
      const now = Math.floor(Date.now() / 1000);
      const cdr = await api.DescribeTelCdr({ SdkAppId: sdkappid, StartTimeStamp: now - 3600,
        EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0 });
      const rec = Object.fromEntries(cdr.TelCdrList.map((c) => [c.SessionId, c]));
      for (const c of done.Callees) {
        const [, , [status]] = want[c.Callee.slice(4, 7)];
        for (const sid of c.Sessions) {
          assert.equal(rec[sid]?.EndStatus, status, `${c.Callee} ${sid}`);
          assert.equal(rec[sid].UUI, "task-uui");
          // The key went through the IVR into the record; the others pressed none.
          assert.deepEqual(rec[sid].IVRKeyPressed, c.Callee.startsWith("0086135") ? ["5"] : [],
            `${c.Callee} ${sid}`);
        }
      }
      const keyed = done.Callees.filter((c) => c.Callee.startsWith("0086135"));
      assert.equal(keyed.length, 4);
      assert.ok(keyed.every((c) => c.State === 1 && c.Sessions.length === 1),
        "answered with a key: one try, no retry");
      const cdrs = await until(() => {
        const got = pushes.filter((p) => p.action === "cdr");
        return got.length >= ids.length ? got : null;
      }, 30000, 200, "every attempt's CDR pushed");
      assert.deepEqual(new Set(cdrs.map((p) => p.body.SessionId)), new Set(ids));
      assert.ok(cdrs.every((p) => p.body.UUI === "task-uui"));
      for (const c of keyed) {
        const pushed = cdrs.find((p) => p.body.SessionId === c.Sessions[0]);
        assert.deepEqual(pushed.body.IVRKeyPressed, ["5"], c.Callee);
      }
      const ev = await until(() => pushes.find((p) => p.action === "event" &&
        p.body.Event === "AutoCalloutTaskFinished"), 10000, 200, "the task-finished event");
      assert.deepEqual(ev.body.Data, { TaskId: r.TaskId, State: 2 });
      assert.equal(ev.body.SdkAppId, sdkappid);
    } finally {
      await e.stop();
      e.cleanup();
      sink.close();
      for (const p of Object.values(peers)) await p.stop();
    }
  });
