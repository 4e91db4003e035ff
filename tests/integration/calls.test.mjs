// End to end with the official SDK: CreateIVRSession places a real SIP call to a sipp
// phone, the demo IVR runs (barge-in menu, key 1 over RFC 4733, an HTTP node, a hang-up),
// and the session's record is the same in DescribeTelSession, DescribeTelCdr and the CDR
// push. Also: unanswered outcomes, HangUpCall, the active list, tenant isolation of the
// session actions, and kill -9 during a call.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, until, sleep, httpListen } from "./lib/cccd.mjs";

const SDKAPPID = 1400000100;
const OTHER = 1400000200;
let d, phone, api, other, creds, pushes = [], ivrHits = 0, servers = [];

async function listen(handler) {
  const { port, server } = await httpListen(handler);
  servers.push(server);
  return port;
}

before(async () => {
  const ivrPort = await listen((req, body, res) => {
    ivrHits++;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ status: "shipped", delivery: { date: "tomorrow" } }));
  });
  const pushPort = await listen((req, body, res) => {
    pushes.push({ url: req.url, id: req.headers["x-tccc-push-uuid"], body: JSON.parse(body) });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0,"ErrMsg":"ok"}');
  });
  phone = await sipp(path.join(ROOT, "demo/phone.xml"));
  d = await startCccd({ trunkPort: phone.port });
  const flow = fs.readFileSync(path.join(ROOT, "demo/flows/4500.json"), "utf8")
    .replace("http://127.0.0.1:9091/ivr", `http://127.0.0.1:${ivrPort}/ivr`);
  fs.writeFileSync(path.join(d.dir, "4500.json"), flow);
  creds = d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", `4500:autoOutbound:${d.dir}/4500.json`,
    "--number", "008675512345678", "--rules", "demo"]);
  d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(SDKAPPID),
    "--url", `http://127.0.0.1:${pushPort}/push`, "--events", "cdr"]);
  other = client(d.tenant(["--sdkappid", String(OTHER), "--ivr", "1:autoOutbound",
    "--number", "008601012345678", "--rules", "demo"]), d.endpoint);
  api = client(creds, d.endpoint);
});

after(async () => {
  await d?.stop();
  await phone?.stop();
  for (const s of servers) s.close();
  d?.cleanup();
});

test("a CreateIVRSession call runs the IVR and leaves the same record everywhere", async () => {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "+8612300000000", IVRId: 4500,
    Variables: [{ Key: "OrderNo", Value: "A-77" }], UUI: "crm-42" });
  assert.equal(r.err, undefined, r.message);
  assert.match(r.SessionId, /^[0-9a-f]{32}$/);

  const s = await finished(api, SDKAPPID, r.SessionId);
  assert.equal(s.Callee, "008612300000000");
  assert.equal(s.Caller, "008675512345678");
  assert.ok(s.RingTimestamp > 0 && s.AcceptTimestamp >= s.RingTimestamp);

  const cdr = await until(() => cdrOf(api, SDKAPPID, r.SessionId), 5000, 100, "the CDR");
  assert.equal(cdr.EndStatus, 1);
  assert.equal(cdr.EndStatusString, "ok");
  assert.equal(cdr.HungUpSide, "system");
  assert.equal(cdr.Direction, 1);
  assert.equal(cdr.UUI, "crm-42");
  assert.deepEqual(cdr.IVRKeyPressed, ["1"]);
  assert.equal(cdr.IVRKeyPressedEx[0].Key, "1");
  assert.equal(cdr.IVRKeyPressedEx[0].Label, "delivery details");
  assert.equal(cdr.IVRKeyPressedEx[0].NodeLabel, "welcome menu");
  assert.match(cdr.IVRKeyPressedEx[0].TTSPrompt, /order A-77/);
  assert.ok(cdr.IVRKeyPressedEx[0].Timestamp > cdr.AcceptTimestamp * 1000 - 1000);
  assert.ok(cdr.EndedTimestamp >= cdr.AcceptTimestamp);
  assert.equal(cdr.Duration, cdr.EndedTimestamp - cdr.AcceptTimestamp);
  assert.ok(ivrHits >= 1, "the IVR's HTTP node called the endpoint");

  const push = await until(() => pushes.find((p) => p.body.SessionId === r.SessionId), 10000,
    100, "the CDR push");
  assert.match(push.url, /\?action=cdr&version=1$/);
  assert.match(push.id, /^[0-9a-f-]{36}$/);
  assert.equal(push.body.SdkAppId, SDKAPPID);
  // the SDK's model drops cccd's additions (CccdEvidence): compared without them
  const { SdkAppId, CccdEvidence, ...pushed } = push.body;
  assert.equal(CccdEvidence.SipStatus, 200);
  assert.deepEqual(pushed, JSON.parse(JSON.stringify(cdr)), "the push body is the DescribeTelCdr record");
});

test("busy and not found end with their EndStatus, hung up by the system", async () => {
  for (const [scenario, status, name] of [["uas_busy.xml", 206, "busy"],
    ["uas_notfound.xml", 205, "numberNotExist"]]) {
    const peer = await sipp(path.join(ROOT, "tests/sip", scenario));
    const dd = await startCccd({ trunkPort: peer.port });
    try {
      const c = client(dd.tenant(["--sdkappid", "1400000300", "--ivr", "1:autoOutbound",
        "--number", "008601012345678", "--rules", "demo"]), dd.endpoint);
      const r = await c.CreateIVRSession({ SdkAppId: 1400000300, Callee: "008613800138000", IVRId: 1 });
      assert.equal(r.err, undefined, r.message);
      await finished(c, 1400000300, r.SessionId);
      const cdr = await cdrOf(c, 1400000300, r.SessionId);
      assert.equal(cdr.EndStatus, status);
      assert.equal(cdr.EndStatusString, name);
      assert.equal(cdr.HungUpSide, "system");
      assert.equal(cdr.AcceptTimestamp, 0);
      assert.equal(cdr.Duration, 0);
    } finally {
      await dd.stop();
      dd.cleanup();
      await peer.stop();
    }
  }
});

test("HangUpCall ends a ringing call; the active list shows it until then", async () => {
  const peer = await sipp(path.join(ROOT, "tests/sip/uas_noanswer.xml"));
  const dd = await startCccd({ trunkPort: peer.port });
  try {
    const cr = dd.tenant(["--sdkappid", "1400000400", "--ivr", "1:autoOutbound",
      "--number", "008601012345678", "--rules", "demo"]);
    const c = client(cr, dd.endpoint);
    const r = await c.CreateIVRSession({ SdkAppId: 1400000400, Callee: "008613800138000", IVRId: 1 });
    assert.equal(r.err, undefined, r.message);
    const list = await until(async () => {
      const l = await c.DescribePSTNActiveSessionList({ SdkAppId: 1400000400, Offset: 0, Limit: 25 });
      return l.Total === 1 && l.Sessions[0].RingTimestamp > 0 ? l : null;
    }, 10000, 100, "the session to ring");
    assert.equal(list.Sessions[0].SessionID, r.SessionId);
    assert.equal(typeof list.Sessions[0].StartTimestamp, "string");
    assert.equal(list.Sessions[0].SessionStatus, "ringing");
    const big = await c.DescribePSTNActiveSessionList({ SdkAppId: 1400000400, Offset: 0, Limit: 26 });
    assert.equal(big.err, "LimitExceeded.OutOfCountLimit");

    const h = await c.HangUpCall({ SdkAppId: 1400000400, SessionId: r.SessionId });
    assert.equal(h.err, undefined, h.message);
    await finished(c, 1400000400, r.SessionId);
    const cdr = await cdrOf(c, 1400000400, r.SessionId);
    assert.equal(cdr.HungUpSide, "system");
    assert.equal(cdr.AcceptTimestamp, 0);
    assert.ok(cdr.RingTimestamp > 0);
    const again = await c.HangUpCall({ SdkAppId: 1400000400, SessionId: r.SessionId });
    assert.equal(again.err, "FailedOperation.SessionNotExists");
    const none = await c.DescribePSTNActiveSessionList({ SdkAppId: 1400000400, Offset: 0, Limit: 25 });
    assert.equal(none.Total, 0);
    assert.deepEqual(none.Sessions, []);
  } finally {
    await dd.stop();
    dd.cleanup();
    await peer.stop();
  }
});

test("another tenant reads and hangs up nothing of this one", async () => {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008612300000001", IVRId: 4500 });
  assert.equal(r.err, undefined, r.message);
  const now = Math.floor(Date.now() / 1000);
  for (const [action, req] of [
    ["DescribeTelSession", { SdkAppId: SDKAPPID, SessionId: r.SessionId }],
    ["HangUpCall", { SdkAppId: SDKAPPID, SessionId: r.SessionId }],
    ["DescribePSTNActiveSessionList", { SdkAppId: SDKAPPID, Offset: 0, Limit: 10 }],
    ["DescribeTelCdr", { SdkAppId: SDKAPPID, StartTimeStamp: now - 60, EndTimeStamp: now + 60,
      PageSize: 10, PageNumber: 0 }],
  ]) {
    const x = await other[action](req);
    assert.equal(x.err, "InvalidParameterValue.InstanceNotExist", action);
  }
  // Its own instance with this tenant's session id: no such session.
  const y = await other.DescribeTelSession({ SdkAppId: OTHER, SessionId: r.SessionId });
  assert.equal(y.err, "FailedOperation.SessionNotExists");
  const z = await other.HangUpCall({ SdkAppId: OTHER, SessionId: r.SessionId });
  assert.equal(z.err, "FailedOperation.SessionNotExists");
  await finished(api, SDKAPPID, r.SessionId);
});

test("DescribeTelCdr checks its range and pages", async () => {
  const now = Math.floor(Date.now() / 1000);
  const bad = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now, EndTimeStamp: now - 10,
    PageSize: 10, PageNumber: 0 });
  assert.equal(bad.err, "InvalidParameterValue");
  const big = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 60, EndTimeStamp: now + 60,
    PageSize: 101, PageNumber: 0 });
  assert.equal(big.err, "InvalidParameterValue");
  const all = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 3600, EndTimeStamp: now + 60,
    PageSize: 1, PageNumber: 0 });
  assert.ok(all.TotalCount >= 2);
  assert.equal(all.TelCdrList.length, 1);
  assert.deepEqual(all.TelCdrs, all.TelCdrList);
  const byPhone = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 3600,
    EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0, Phones: ["+8612300000001"] });
  assert.equal(byPhone.TotalCount, 1);
  assert.equal(byPhone.TelCdrList[0].Callee, "008612300000001");
  // National form, as CreateIVRSession would have read the callee: the same record.
  const national = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 3600,
    EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0, Phones: ["123 0000 0001"] });
  assert.equal(national.TotalCount, 1, JSON.stringify(national));
  assert.equal(national.TelCdrList[0].SessionId, byPhone.TelCdrList[0].SessionId);
});

test("DescribeTelCdr's CccdEndStatus keeps the records of those codes, paged in order", async () => {
  // Two calls not answered in 1 s (202 notAnswer) and one hung up while ringing: two codes.
  const peer = await sipp(path.join(ROOT, "tests/sip/uas_noanswer.xml"));
  const dd = await startCccd({ trunkPort: peer.port });
  try {
    const id = 1400000600;
    const c = client(dd.tenant(["--sdkappid", String(id), "--ivr", "1:autoOutbound",
      "--number", "008601012345678", "--rules", "demo"]), dd.endpoint);
    const ids = [];
    for (const callee of ["008613800138001", "008613800138002"]) {
      const r = await c.CreateIVRSession({ SdkAppId: id, Callee: callee, IVRId: 1, MaxRingTimeoutSecond: 1 });
      assert.equal(r.err, undefined, r.message);
      ids.push(r.SessionId);
    }
    const r = await c.CreateIVRSession({ SdkAppId: id, Callee: "008613800138003", IVRId: 1 });
    assert.equal(r.err, undefined, r.message);
    await until(async () => {
      const l = await c.DescribePSTNActiveSessionList({ SdkAppId: id, Offset: 0, Limit: 25 });
      return l.Sessions.some((s) => s.SessionID === r.SessionId && s.RingTimestamp > 0);
    }, 10000, 100, "the third call to ring");
    assert.equal((await c.HangUpCall({ SdkAppId: id, SessionId: r.SessionId })).err, undefined);
    for (const s of [...ids, r.SessionId]) await finished(c, id, s);
    await endStatusFilter(c, id);
  } finally {
    await dd.stop();
    dd.cleanup();
    await peer.stop();
  }
});

async function endStatusFilter(api, sdkappid) {
  const now = Math.floor(Date.now() / 1000);
  const q = { SdkAppId: sdkappid, StartTimeStamp: now - 3600, EndTimeStamp: now + 60, PageNumber: 0 };
  const all = (await api.DescribeTelCdr({ ...q, PageSize: 100 })).TelCdrList;
  const codes = [...new Set(all.map((c) => c.EndStatus))];
  assert.ok(codes.length >= 2, `records of two outcomes at least: ${codes}`);
  for (const code of codes) {
    const want = all.filter((c) => c.EndStatus === code).map((c) => c.SessionId);
    const r = await api.DescribeTelCdr({ ...q, PageSize: 100, CccdEndStatus: [code] });
    assert.equal(r.TotalCount, want.length, JSON.stringify(r));
    assert.deepEqual(r.TelCdrList.map((c) => c.SessionId), want);
    // One a page: the same records in the same order.
    const paged = [];
    for (let page = 0; page < want.length; page++) {
      const p = await api.DescribeTelCdr({ ...q, PageSize: 1, PageNumber: page, CccdEndStatus: [code] });
      assert.equal(p.TotalCount, want.length);
      paged.push(p.TelCdrList[0].SessionId);
    }
    assert.deepEqual(paged, want);
  }
  const two = await api.DescribeTelCdr({ ...q, PageSize: 100, CccdEndStatus: codes.slice(0, 2) });
  assert.deepEqual(two.TelCdrList.map((c) => c.SessionId),
    all.filter((c) => codes.slice(0, 2).includes(c.EndStatus)).map((c) => c.SessionId));
  const none = await api.DescribeTelCdr({ ...q, PageSize: 100,
    CccdEndStatus: [[0, 1, 107, 202].find((c) => !codes.includes(c)) ?? 233] });
  assert.equal(none.TotalCount, 0);
  for (const [bad, err, field] of [[[999], "InvalidParameterValue", "CccdEndStatus.0"],
    [[1, 3], "InvalidParameterValue", "CccdEndStatus.1"], [[-1], "InvalidParameterValue", "CccdEndStatus"],
    [1, "InvalidParameter", "CccdEndStatus"], [Array(33).fill(1), "InvalidParameterValue", "CccdEndStatus"]]) {
    const r = await api.DescribeTelCdr({ ...q, PageSize: 10, CccdEndStatus: bad });
    assert.equal(r.err, err, JSON.stringify(bad));
    assert.match(r.message, new RegExp(field.replace(".", "\\.")), r.message);
  }
}

test("kill -9 during a call: after restart the session has an honest final record", async () => {
  const peer = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"));
  const dd = await startCccd({ trunkPort: peer.port });
  try {
    const c = client(dd.tenant(["--sdkappid", "1400000500", "--ivr", "1:autoOutbound",
      "--number", "008601012345678", "--rules", "demo"]), dd.endpoint);
    // A flow that keeps the line: a long prompt.
    const r = await c.CreateIVRSession({ SdkAppId: 1400000500, Callee: "008613800138000", IVRId: 1 });
    assert.equal(r.err, undefined, r.message);
    await dd.kill();
    await dd.start();
    const s = await finished(c, 1400000500, r.SessionId);
    assert.equal(s.SessionStatus, "finished");
    const cdr = await cdrOf(c, 1400000500, r.SessionId);
    // Killed before its INVITE went out, the session is dialled again after the restart and
    // ends as that call ends; killed during the call, it ends as a system error (0).
    assert.notEqual(cdr.EndStatusString, "", `EndStatus ${cdr.EndStatus}`);
    if (cdr.EndStatus === 0) assert.equal(cdr.HungUpSide, "system");
  } finally {
    await dd.stop();
    dd.cleanup();
    await peer.stop();
  }
});

test("SIGTERM: calls in progress are hung up after stop_wait, recorded, and cccd exits 0", async () => {
  const peer = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"));
  const dd = await startCccd({ trunkPort: peer.port, sections: "[session]\nstop_wait = 1\n" });
  try {
    const flow = { ivrId: 2, name: "hold", type: "autoOutbound", start: "s", nodes: [
      { id: "s", type: "start", next: "p" },
      { id: "p", type: "prompt", params: { tts: "Please hold the line.", plays: 10 }, next: "h" },
      { id: "h", type: "hangup" }] };
    fs.writeFileSync(path.join(dd.dir, "2.json"), JSON.stringify(flow));
    const c2 = client(dd.tenant(["--sdkappid", "1400000601", "--ivr", `2:autoOutbound:${dd.dir}/2.json`,
      "--number", "008601012345678", "--rules", "demo"]), dd.endpoint);
    const r = await c2.CreateIVRSession({ SdkAppId: 1400000601, Callee: "008613800138000", IVRId: 2 });
    assert.equal(r.err, undefined, r.message);
    await until(async () => {
      const s = await c2.DescribeTelSession({ SdkAppId: 1400000601, SessionId: r.SessionId });
      return s.Session && s.Session.SessionStatus === "inProgress";
    }, 10000, 100, "the call to be answered");
    const code = await dd.stop();
    assert.equal(code, 0);
    await dd.waitLog(/stopping; 1 calls in progress/);
    await dd.start();
    const s = await finished(c2, 1400000601, r.SessionId, 5000);
    const cdr = await cdrOf(c2, 1400000601, r.SessionId);
    assert.equal(cdr.EndStatus, 1, "hung up by cccd at the stop, not closed as an error later");
    assert.equal(cdr.HungUpSide, "system");
    assert.ok(s.AcceptTimestamp > 0);
  } finally {
    await dd.stop();
    dd.cleanup();
    await peer.stop();
  }
});
