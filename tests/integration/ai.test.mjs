// AI licences of CreateIVRSession from real conditions: a flow with a speech node needs an
// AI channel. No channel licensed -> FailedOperation.AIConcurrentNoPackage; every licensed
// channel held by a live AI session -> FailedOperation.AIConcurrentOverFrequency, exact under
// 20 concurrent requests; licences changed at run time with `ccc admin instance-set`, and a
// control request that passes next to each refusal. Inbound calls refused for want of a
// channel leave a finished record, read with the SDK and pushed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT, startCccd, client, until } from "./lib/cccd.mjs";

let d, aiFlow, plainFlow, next = 1400003000;

// Calls go to the discard port and never answer: admitted sessions stay live (ringing) and
// hold their AI channel until they are hung up (no 100 Trying timeout: the discard port
// never answers, and the call must ring on).
before(async () => {
  d = await startCccd({ sections:
    "[trunk nowhere]\nhost = 127.0.0.1\nport = 9\ntransport = udp\nroute = *\noptions_interval = 0\n" +
    "trying_timeout_ms = 0\n" });
  aiFlow = path.join(d.dir, "ai.json");
  plainFlow = path.join(d.dir, "plain.json");
  fs.writeFileSync(aiFlow, JSON.stringify({ type: "autoOutbound", nodes: [
    { id: "s", type: "start", next: "ask" },
    { id: "ask", type: "speech", params: { prompt: { tts: "How can we help?" },
      url: "http://127.0.0.1:9/asr", intents: { agent: "bye" } }, next: "bye", onFail: "bye" },
    { id: "bye", type: "hangup" }] }));
  fs.writeFileSync(plainFlow, JSON.stringify({ type: "autoOutbound", nodes: [
    { id: "s", type: "start", next: "bye" }, { id: "bye", type: "hangup" }] }));
});

after(async () => {
  await d?.close();
});

function tenant(aiChannels) {
  const sdkappid = next++;
  const creds = d.tenant(["--sdkappid", String(sdkappid), "--rules", "demo",
    "--ivr", `1:autoOutbound:${aiFlow}`, "--ivr", `2:autoOutbound:${plainFlow}`,
    "--number", "008601012345678", "--ai-channels", String(aiChannels)]);
  return { sdkappid, api: client(creds, d.endpoint) };
}

const create = (t, ivr, callee = "008613800138000") =>
  t.api.CreateIVRSession({ SdkAppId: t.sdkappid, Callee: callee, IVRId: ivr });
const admin = (...args) => d.ccc(["admin", "--config", d.confPath, ...args]);

test("an AI flow without an AI licence: FailedOperation.AIConcurrentNoPackage", async () => {
  const t = tenant(0);
  const r = await create(t, 1);
  assert.equal(r.err, "FailedOperation.AIConcurrentNoPackage");
  assert.match(r.message, /AI licence/);
  assert.equal((await create(t, 2)).err, undefined, "a flow without AI needs no licence");
  admin("instance-set", "--sdkappid", String(t.sdkappid), "--ai-channels", "1");
  assert.equal((await create(t, 1)).err, undefined, "licensed at run time, no restart");
});

test("every AI channel busy: FailedOperation.AIConcurrentOverFrequency; a hang-up frees one", async () => {
  const t = tenant(1);
  const first = await create(t, 1);
  assert.equal(first.err, undefined);
  const r = await create(t, 1, "008613800138001");
  assert.equal(r.err, "FailedOperation.AIConcurrentOverFrequency");
  assert.match(r.message, /all 1 AI channels are in use/);
  assert.equal((await create(t, 2, "008613800138001")).err, undefined,
    "sessions without AI are not counted");
  await t.api.HangUpCall({ SdkAppId: t.sdkappid, SessionId: first.SessionId });
  let ok;
  for (let i = 0; i < 100 && !ok; i++) {
    const x = await create(t, 1, "008613800138002");
    if (!x.err) ok = x;
    else await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(ok, "the hung-up session's channel is free again");
  admin("instance-set", "--sdkappid", String(t.sdkappid), "--ai-channels", "2");
  assert.equal((await create(t, 1, "008613800138003")).err, undefined, "a second channel");
  assert.equal((await create(t, 1, "008613800138004")).err,
    "FailedOperation.AIConcurrentOverFrequency");
});

test("20 concurrent AI requests with 3 channels: exactly 3 pass", async () => {
  const t = tenant(3);
  const rs = await Promise.all(Array.from({ length: 20 },
    (_, i) => create(t, 1, `00861380013${String(8100 + i)}`)));
  assert.equal(rs.filter((r) => !r.err).length, 3);
  assert.equal(rs.filter((r) => r.err === "FailedOperation.AIConcurrentOverFrequency").length, 17);
  const other = tenant(1);
  assert.equal((await create(other, 1)).err, undefined, "channels are per instance");
});

// An inbound call into an AI flow takes a channel too: 480 without a licence, 486 (Busy
// Here) while every channel is held, answered once one is free. Each refusal is a finished
// inbound session (EndStatus 105 noSeatOnline, Start = End) that DescribeTelCdr and
// DescribeTelSession show and that is pushed like any call record; unknown numbers (404)
// leave nothing.
test("inbound calls into an AI flow: 480 without a licence, 486 with every channel busy", async (t) => {
  const pushes = [];
  const rx = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      pushes.push({ url: req.url, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"ErrCode":0,"ErrMsg":"ok"}');
    });
  });
  await new Promise((r) => rx.listen(0, "127.0.0.1", r));
  t.after(() => { rx.closeAllConnections(); rx.close(); });
  const sdkappid = next++;
  const flow = path.join(d.dir, "ai-in.json");
  fs.writeFileSync(flow, JSON.stringify({ type: "inbound", nodes: [
    { id: "s", type: "start", next: "ask" },
    { id: "ask", type: "speech", params: { prompt: { tts: "Welcome. How can we help you today? Please tell us in a few words." },
      url: "http://127.0.0.1:9/asr", maxLenS: 30, silenceMs: 10000 }, next: "bye", onFail: "bye" },
    { id: "bye", type: "hangup" }] }));
  const creds = d.tenant(["--sdkappid", String(sdkappid), "--rules", "demo", "--ivr", `5:inbound:${flow}`,
    "--ivr", `1:autoOutbound:${aiFlow}`, "--number", "008601012340000", "--ai-channels", "0"]);
  const api = client(creds, d.endpoint);
  d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(sdkappid),
    "--url", `http://127.0.0.1:${rx.address().port}/push`, "--events", "cdr"]);
  admin("number-set", "--sdkappid", String(sdkappid), "--number", "008601012349999",
    "--outbound", "no", "--inbound-ivr", "5");
  const scenario = (code) => {
    const f = path.join(d.dir, `uac_ai_${code}.xml`);
    fs.writeFileSync(f, fs.readFileSync(path.join(ROOT, "tests/sip/uac_ai_refused.xml"), "utf8")
      .replaceAll("REFUSAL_CODE", String(code)));
    return f;
  };
  const dial = (file) => spawnSync("sipp", ["-sf", file, "-s", "+861012349999", "-i", "127.0.0.1",
    "-p", "0", "-m", "1", "-timeout", "15s", "-timeout_error", "-nostdin", `127.0.0.1:${d.sipPort}`],
  { encoding: "utf8", timeout: 30000 });
  // The inbound table is re-read every 5 s: wait for the binding, refused for no licence.
  const r480 = await until(() => {
    const x = dial(scenario(480));
    return x.status === 0 ? x : null;
  }, 15000, 1000, "the number to be refused with 480");
  assert.equal(r480.status, 0);
  // One channel, held by an outbound AI session that rings on. Until the licence is seen
  // (within 5 s) the calls are still refused with 480: each of those is recorded too.
  admin("instance-set", "--sdkappid", String(sdkappid), "--ai-channels", "1");
  const held = await create({ sdkappid, api }, 1);
  assert.equal(held.err, undefined, held.message);
  let refusals = 1;
  const r486 = await until(() => {
    const x = dial(scenario(486));
    refusals++;
    return x.status === 0 ? x : null;
  }, 15000, 1000, "the licence to be seen and the call refused with 486");
  assert.equal(r486.status, 0);

  const now = Math.floor(Date.now() / 1000);
  const inbound = async () => {
    const l = await api.DescribeTelCdr({ SdkAppId: sdkappid, StartTimeStamp: now - 600,
      EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0 });
    assert.equal(l.err, undefined, l.message);
    return l.TelCdrList.filter((c) => c.Direction === 0);
  };
  const refused = await until(async () => {
    const l = await inbound();
    return l.length >= refusals ? l : null;
  }, 10000, 200, `${refusals} records of refused calls`);
  assert.equal(refused.length, refusals, "one record per refused call, none for the 404s");
  for (const cdr of refused) {
    assert.equal(cdr.CallType, 2);
    assert.equal(cdr.Caller, "008613800000000");
    assert.equal(cdr.Callee, "00861012349999");
    assert.equal(cdr.EndStatus, 105);
    assert.equal(cdr.EndStatusString, "noSeatOnline");
    assert.equal(cdr.HungUpSide, "system");
    assert.equal(cdr.StartTimestamp, cdr.EndedTimestamp);
    assert.equal(cdr.Time, cdr.StartTimestamp);
    assert.ok(cdr.StartTimestamp >= now - 600 && cdr.StartTimestamp <= now);
    assert.deepEqual([cdr.RingTimestamp, cdr.AcceptTimestamp, cdr.Duration, cdr.IVRDuration],
      [0, 0, 0, 0]);
    assert.deepEqual(cdr.IVRKeyPressed, []);
    assert.equal(cdr.RecordURL, "");
    const s = await api.DescribeTelSession({ SdkAppId: sdkappid, SessionId: cdr.SessionId });
    assert.equal(s.err, undefined, s.message);
    assert.equal(s.Session.SessionStatus, "finished");
    assert.equal(s.Session.Direction, 0);
    assert.equal(s.Session.Caller, "008613800000000");
    assert.equal(s.Session.Callee, "00861012349999");
    assert.equal(s.Session.StartTimestamp, cdr.StartTimestamp);
    assert.deepEqual([s.Session.RingTimestamp, s.Session.AcceptTimestamp], [0, 0]);
    const push = await until(() => pushes.find((p) => p.body.SessionId === cdr.SessionId),
      10000, 100, "the refused call's CDR push");
    assert.match(push.url, /\?action=cdr&version=1$/);
    // the SDK's model drops cccd's additions (CccdEvidence): compared without them
    const { SdkAppId, CccdEvidence, ...pushed } = push.body;
    assert.equal(SdkAppId, sdkappid);
    assert.deepEqual(pushed, JSON.parse(JSON.stringify(cdr)), "the push is the DescribeTelCdr record");
  }
  const active = await api.DescribePSTNActiveSessionList({ SdkAppId: sdkappid, Offset: 0, Limit: 25 });
  assert.equal(active.Total, 1, "only the held outbound session is live");
  // Control: the channel is freed and the same call is answered.
  await api.HangUpCall({ SdkAppId: sdkappid, SessionId: held.SessionId });
  const ok = await until(() => {
    const x = dial(path.join(ROOT, "tests/sip/uac_inbound.xml"));
    return x.status === 0 ? x : null;
  }, 15000, 1000, "the call to be answered once the channel is free");
  assert.equal(ok.status, 0);
  // A live AI session another node owns takes a channel too (the licences are the
  // instance's, whichever node works its calls): the held session, marked in the store as
  // live and owned elsewhere, fills the one channel once the table is re-read (<= 5 s).
  await until(async () => (await api.DescribeTelSession({ SdkAppId: sdkappid, SessionId: held.SessionId }))
    .Session?.SessionStatus === "finished", 10000, 100, "the held session's end to be stored");
  await until(async () => (await api.DescribePSTNActiveSessionList({ SdkAppId: sdkappid, Offset: 0, Limit: 25 }))
    .Total === 0, 30000, 200, "the answered inbound call to end");
  const free = dial(path.join(ROOT, "tests/sip/uac_inbound.xml"));
  assert.equal(free.status, 0, "with no AI session anywhere, the channel is free");
  await until(async () => (await api.DescribePSTNActiveSessionList({ SdkAppId: sdkappid, Offset: 0, Limit: 25 }))
    .Total === 0, 30000, 200, "that call to end too");
  d.sql(`UPDATE sessions SET status = 1, owner_node = 'elsewhere' WHERE id = '${held.SessionId}'`);
  // One try only, after a re-read: an answered try would hold the channel itself.
  await new Promise((r) => setTimeout(r, 7000));
  const elsewhere = dial(scenario(486));
  assert.equal(elsewhere.status, 0, `the other node's AI session was not counted:\n${elsewhere.stdout}${elsewhere.stderr}`);
  d.sql(`UPDATE sessions SET status = 3, owner_node = '' WHERE id = '${held.SessionId}'`);
});
