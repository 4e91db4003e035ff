// Every SIP outcome through the API: one real cccd with one trunk per sipp peer, a
// CreateIVRSession per outcome (all at once), and for each the EndStatus, HungUpSide,
// keys and timestamps that DescribeTelSession and DescribeTelCdr report. Also an inbound
// call from sipp to the tenant's number. Ports: sipp 16400-16439 (SIP) and 16500-16559
// (media), cccd RTP 200 ports the harness reserves.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, until } from "./lib/cccd.mjs";
import { dtmfSamples, writePcap } from "./lib/rtp.mjs";

const SDKAPPID = 1400016400;
const CALLER = "008675512345678";
const INBOUND = "008675516400000";
const SIP = (n) => path.join(ROOT, "tests/sip", n);

// One row per outcome: the peer's scenario, what the flow does, what the record must say.
// rang: the peer sends 180; answered: it sends 200; keys: IVRKeyPressed.
const CASES = [
  { name: "answer, RFC 4733 key, callee BYE", scenario: "uas_answer_rfc4733_bye.xml", ivr: 10,
    status: 1, str: "ok", side: "user", rang: true, answered: true, keys: ["1"] },
  { name: "answer, SIP INFO key, callee BYE", scenario: "uas_answer_info.xml", ivr: 10,
    status: 1, str: "ok", side: "user", rang: true, answered: true, keys: ["5"] },
  { name: "answer, in-band key, callee BYE", scenario: "uas_answer_inband_bye.xml", ivr: 10,
    status: 1, str: "ok", side: "user", rang: true, answered: true, keys: ["2"] },
  { name: "answer, cccd hangs up", scenario: "uas_answer_wait_bye.xml", ivr: 11,
    status: 1, str: "ok", side: "system", rang: true, answered: true, keys: [] },
  { name: "busy (486)", scenario: "uas_busy.xml", ivr: 11, status: 206, str: "busy",
    side: "system", rang: false, answered: false },
  { name: "decline (603)", scenario: "uas_decline.xml", ivr: 11, status: 203, str: "userReject",
    side: "system", rang: false, answered: false },
  { name: "not found (404)", scenario: "uas_notfound.xml", ivr: 11, status: 205,
    str: "numberNotExist", side: "system", rang: false, answered: false },
  { name: "no answer until MaxRingTimeoutSecond (CANCEL, 487)", scenario: "uas_noanswer.xml",
    ivr: 11, maxRing: 2, status: 202, str: "notAnswer", side: "system", rang: true,
    answered: false },
  { name: "trunk 503", scenario: "uas_503.xml", ivr: 11, status: 208, str: "operatorError",
    side: "system", rang: false, answered: false },
  { name: "digest authentication (401, then answered)", scenario: "uas_auth.xml", ivr: 11,
    auth: "alice:s3cret", status: 1, str: "ok", side: "user", rang: true, answered: true },
  { name: "digest authentication refused (401 twice)", scenario: "uas_auth_fail.xml", ivr: 11,
    auth: "alice:wrong", status: 208, str: "operatorError", side: "system", rang: false,
    answered: false },
];
CASES.forEach((c, i) => {
  c.port = 16400 + i;
  c.mp = 16500 + i * 4;
  c.callee = `0086139000000${String(i).padStart(2, "0")}`;
});

let d, api, peers = [], results = new Map();

function flows(dir) {
  const menu = { ivrId: 10, name: "menu", type: "autoOutbound", start: "s", nodes: [
    { id: "s", type: "start", next: "m" },
    { id: "m", type: "menu", label: "key menu", params: {
      prompt: { tts: "Press one, two or five." }, timeoutMs: 8000, retries: 0,
      keys: { 1: { label: "one", next: "hold" }, 2: { label: "two", next: "hold" },
        5: { label: "five", next: "hold" } } }, onTimeout: "bye", onInvalid: "bye" },
    { id: "hold", type: "prompt", params: { tts: "Thank you. Please hold the line.", plays: 10,
      interruptible: false }, next: "bye" },
    { id: "bye", type: "hangup" }] };
  const short = { ivrId: 11, name: "short", type: "autoOutbound", start: "s", nodes: [
    { id: "s", type: "start", next: "p" },
    { id: "p", type: "prompt", params: { tts: "Goodbye." }, next: "h" },
    { id: "h", type: "hangup" }] };
  const inbound = { ivrId: 12, name: "inbound", type: "inbound", start: "s", nodes: [
    { id: "s", type: "start", next: "p" },
    { id: "p", type: "prompt", params: { tts: "Welcome. Please hold.", plays: 10 }, next: "h" },
    { id: "h", type: "hangup" }] };
  for (const f of [menu, short, inbound]) fs.writeFileSync(path.join(dir, `${f.ivrId}.json`), JSON.stringify(f));
}

// start ≤ ring ≤ accept ≤ end; ring and accept absent (0) when the call never rang or was
// never answered; DescribeTelSession and DescribeTelCdr agree.
function checkTimes(s, cdr, { rang, answered }, what) {
  assert.ok(cdr.StartTimestamp > 0, what);
  assert.equal(s.StartTimestamp, cdr.StartTimestamp, what);
  assert.equal(s.RingTimestamp, cdr.RingTimestamp, what);
  assert.equal(s.AcceptTimestamp, cdr.AcceptTimestamp, what);
  assert.ok(cdr.EndedTimestamp >= cdr.StartTimestamp, `${what}: end ≥ start`);
  if (rang === true) {
    assert.ok(cdr.RingTimestamp >= cdr.StartTimestamp, `${what}: ring ≥ start`);
    assert.ok(cdr.RingTimestamp <= cdr.EndedTimestamp, `${what}: ring ≤ end`);
  } else if (rang === false) {
    assert.equal(cdr.RingTimestamp, 0, `${what}: never rang`);
  }
  if (answered) {
    assert.ok(cdr.AcceptTimestamp >= cdr.StartTimestamp, `${what}: accept ≥ start`);
    if (cdr.RingTimestamp) assert.ok(cdr.AcceptTimestamp >= cdr.RingTimestamp, `${what}: accept ≥ ring`);
    assert.ok(cdr.AcceptTimestamp <= cdr.EndedTimestamp, `${what}: accept ≤ end`);
    assert.equal(cdr.Duration, cdr.EndedTimestamp - cdr.AcceptTimestamp, what);
  } else {
    assert.equal(cdr.AcceptTimestamp, 0, `${what}: never answered`);
    assert.equal(cdr.Duration, 0, what);
  }
}

before(async () => {
  const trunks = CASES.map((c, i) => [`[trunk t${i}]`, "host = 127.0.0.1", `port = ${c.port}`,
    "options_interval = 0", `route = ${c.callee.slice(0, 15)}`,
    ...(c.auth ? [`username = ${c.auth.split(":")[0]}`, `password = ${c.auth.split(":")[1]}`] : []),
  ].join("\n")).join("\n");
  d = await startCccd({ sections: trunks, rtpCount: 200 });
  flows(d.dir);
  api = client(d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", `10:autoOutbound:${d.dir}/10.json`,
    "--ivr", `11:autoOutbound:${d.dir}/11.json`, "--ivr", `12:inbound:${d.dir}/12.json`,
    "--number", CALLER, "--rules", "demo"]), d.endpoint);
  d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(SDKAPPID),
    "--number", INBOUND, "--outbound", "no", "--inbound-ivr", "12"]);
  writePcap(path.join(d.dir, "dtmf_inband.pcap"), dtmfSamples(["2"]));

  peers = await Promise.all(CASES.map((c) => sipp(SIP(c.scenario), { port: c.port, mp: c.mp,
    cwd: d.dir, args: ["-m", "1", "-timeout", "40s", "-timeout_error"] })));
  // Every outcome at once: each session to its own trunk.
  const created = await Promise.all(CASES.map((c) => api.CreateIVRSession({ SdkAppId: SDKAPPID,
    Callee: c.callee, IVRId: c.ivr, ...(c.maxRing ? { MaxRingTimeoutSecond: c.maxRing } : {}) })));
  await Promise.all(CASES.map(async (c, i) => {
    const r = created[i];
    if (r.err) { results.set(c.name, { error: `${r.err} ${r.message}` }); return; }
    try {
      const s = await finished(api, SDKAPPID, r.SessionId, 40000);
      const cdr = await until(() => cdrOf(api, SDKAPPID, r.SessionId), 5000, 100, "the CDR");
      const code = await peers[i].wait(15000);
      results.set(c.name, { s, cdr, code, log: peers[i].log });
    } catch (e) {
      results.set(c.name, { error: String(e) });
    }
  }));
});

after(async () => {
  for (const p of peers) await p.stop();
  await d?.close();
});

for (const c of CASES) {
  test(`outbound: ${c.name}`, () => {
    const r = results.get(c.name);
    assert.ok(r && !r.error, r ? `${r.error}\n${d.log.slice(-3000)}` : "no result");
    assert.equal(r.code, 0, `sipp ${c.scenario} failed (exit ${r.code}):\n${r.log.slice(-2000)}`);
    const { s, cdr } = r;
    assert.equal(s.SessionStatus, "finished");
    assert.equal(s.Callee, c.callee);
    assert.equal(s.Caller, CALLER);
    assert.equal(cdr.EndStatus, c.status, `${c.name}: EndStatus ${cdr.EndStatus} ${cdr.EndStatusString}`);
    assert.equal(cdr.EndStatusString, c.str);
    assert.equal(cdr.HungUpSide, c.side);
    assert.equal(cdr.Direction, 1);
    checkTimes(s, cdr, c, c.name);
    if (c.keys) assert.deepEqual(cdr.IVRKeyPressed, c.keys);
    if (c.keys && c.keys.length) {
      assert.equal(cdr.IVRKeyPressedEx[0].NodeLabel, "key menu");
      assert.ok(cdr.IVRKeyPressedEx[0].Timestamp >= cdr.AcceptTimestamp * 1000);
    }
  });
}

test("inbound: sipp calls the tenant's number; the record is in the API", async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  // The inbound table is re-read every 5 s: the first attempts may still get 404.
  const caller = await until(async () => {
    const p = await sipp(SIP("uac_inbound.xml"), { port: 16440, mp: 16560,
      args: ["-s", "+8675516400000", "-m", "1", "-timeout", "20s", "-timeout_error",
        `127.0.0.1:${d.sipPort}`] });
    const code = await p.wait(25000);
    await p.stop();
    return code === 0 ? p : null;
  }, 20000, 500, "the inbound number to answer");
  assert.ok(caller);
  const now = Math.floor(Date.now() / 1000);
  const cdr = await until(async () => {
    const l = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: since - 30,
      EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0 });
    return (l.TelCdrList || []).find((x) => x.Direction === 0 && x.EndedTimestamp > 0);
  }, 10000, 200, "the inbound CDR");
  const s = await finished(api, SDKAPPID, cdr.SessionId, 5000);
  assert.equal(cdr.Callee, INBOUND);
  assert.equal(cdr.Caller, "008613800000000");
  // The caller hung up while the inbound IVR still played: ivrGiveUp.
  assert.equal(cdr.EndStatus, 102);
  assert.equal(cdr.EndStatusString, "ivrGiveUp");
  assert.equal(cdr.HungUpSide, "user");
  assert.equal(cdr.UUI, "hello");
  assert.equal(s.Direction, 0);
  checkTimes(s, cdr, { rang: undefined, answered: true }, "inbound");
});
