// IVR transfers end to end over real SIP: cccd calls a sipp customer, the customer presses
// 1 (RFC 4733) in a menu that leads to a transfer node, cccd dials the transfer target
// (another sipp), bridges the two, and the audio each party sends reaches the other. The
// RTP of both parties is this test's own sockets (the sipp scenarios put them in their
// SDP), so the payloads are checked byte for byte. Also: a busy target takes the node's
// onFail branch with the customer still in the IVR, and a skill group whose first
// destination does not answer connects the second one; when the target hangs up after a
// transfer that names a survey IVR, the survey runs for the customer and its key is the
// CDR's PostIVRKeyPressed. Toll fraud: a transfer to an international number built from
// the session's variables is refused by the instance's destination allow-list (onFail).
// Ports: the harness hands out the sipps' SIP ports, and reserves their media ports, the
// parties' RTP sockets and cccd's RTP range (tests/README.md).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, finished, cdrOf, until, sleep, freePort, portRange, demoRules } from "./lib/cccd.mjs";

const SDKAPPID = 1400000300;
const SIP = path.join(ROOT, "tests/sip");
// Filled in before(): each sipp's SIP port, its media ports, the parties' RTP sockets.
const PORTS = { customer: 0, target: 0, busy: 0, silent: 0 };
const MEDIA = { customer: 0, target: 0, busy: 0, silent: 0 };
const RTP = { customer: 0, target: 0 };
let d, api;
const procs = [];

// A sipp UAS on the given ports (a child process, stopped by the test).
async function sippAt(scenario, port, mediaPort, keys = {}) {
  const args = ["-sf", path.join(SIP, scenario), "-i", "127.0.0.1", "-p", String(port),
    "-mi", "127.0.0.1", "-mp", String(mediaPort), "-nostdin", "-m", "1",
    "-trace_err", "-error_file", `/tmp/sipp-xfer-${process.pid}-${port}.err`];
  for (const [k, v] of Object.entries(keys)) args.push("-key", k, String(v));
  const proc = spawn("sipp", args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (b) => { log += b; });
  proc.stderr.on("data", (b) => { log += b; });
  procs.push(proc);
  await sleep(300);
  return {
    get log() { return log; },
    exited: () => proc.exitCode !== null,
    stop() { if (proc.exitCode === null && !proc.signalCode) proc.kill("SIGKILL"); },
  };
}

// One party's RTP: learns cccd's address from the first packet, can send frames of a
// recognisable pattern every 20 ms and RFC 4733 keys, and keeps what it receives.
function party(port) {
  const sock = dgram.createSocket("udp4");
  const p = { sock, peer: null, received: [], seq: 1, ts: 1000, ssrc: port * 7, timer: null };
  sock.on("message", (msg, rinfo) => {
    if (!p.peer) p.peer = rinfo;
    if (msg.length >= 12) p.received.push({ pt: msg[1] & 0x7f, payload: msg.subarray(12) });
  });
  p.send = (pt, payload, marker = false, ts = p.ts) => {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = (marker ? 0x80 : 0) | pt;
    h.writeUInt16BE(p.seq++ & 0xffff, 2);
    h.writeUInt32BE(ts >>> 0, 4);
    h.writeUInt32BE(p.ssrc, 8);
    sock.send(Buffer.concat([h, payload]), p.peer.port, p.peer.address);
  };
  p.key = async (event) => {
    const ts = p.ts;
    for (let n = 1; n <= 6; n++) {
      const end = n >= 4;
      const pl = Buffer.from([event, (end ? 0x80 : 0) | 10, 0, 0]);
      pl.writeUInt16BE(Math.min(n, 4) * 160, 2);
      p.send(101, pl, n === 1, ts);
      await sleep(20);
    }
    p.ts += 4 * 160;
  };
  // Frame n of the pattern starting at base (PCMA payload bytes).
  p.frame = (base, n) => Buffer.from(Array.from({ length: 160 }, (_, k) => (base + n * 3 + k) & 0xff));
  p.talk = (base) => {
    let n = 0;
    p.timer = setInterval(() => {
      if (!p.peer || n > 1500) return;
      p.send(8, p.frame(base, n++ % 50));
      p.ts += 160;
    }, 20);
  };
  // Did a PCMA packet carry exactly one of the pattern's frames?
  p.heard = (base) => p.received.some((r) => r.pt === 8 && r.payload.length === 160 &&
    [...Array(50).keys()].some((n) => r.payload.equals(p.frame(base, n))));
  p.keyHeard = (event) => p.received.some((r) => r.pt === 101 && r.payload[0] === event);
  p.close = () => { clearInterval(p.timer); sock.close(); };
  // A port in use fails the test at once instead of leaving it waiting.
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(port, "127.0.0.1", () => { sock.off("error", reject); resolve(p); });
  });
}

function flow(ivrId, transferNode) {
  return JSON.stringify({
    ivrId, name: `transfer ${ivrId}`, type: "autoOutbound", start: "start",
    nodes: [
      { id: "start", type: "start", next: "menu" },
      { id: "menu", type: "menu", label: "main menu",
        params: { prompt: { tts: "Press 1 for sales." }, timeoutMs: 8000, retries: 1,
          keys: { 1: { label: "sales", next: "xfer" } } },
        onTimeout: "bye", onInvalid: "bye" },
      { id: "xfer", label: "to sales", ...transferNode, onFail: "sorry" },
      { id: "sorry", type: "hangup", params: { prompt: { tts: "Sorry." } } },
      { id: "bye", type: "hangup" },
    ],
  });
}

before(async () => {
  const media = await portRange(50);
  for (const [i, k] of Object.keys(PORTS).entries()) {
    PORTS[k] = await freePort();
    MEDIA[k] = media.min + 10 * i;
  }
  RTP.customer = media.min + 40;
  RTP.target = media.min + 42;
  d = await startCccd({
    sections: [
      "[trunk target]", "host = 127.0.0.1", `port = ${PORTS.target}`, "route = 7001",
      "options_interval = 0",
      "[trunk busy]", "host = 127.0.0.1", `port = ${PORTS.busy}`, "route = 7002",
      "options_interval = 0",
      "[trunk customers]", "host = 127.0.0.1", `port = ${PORTS.customer}`, "route = *",
      "options_interval = 0",
    ].join("\n"),
  });
  const ext = flow(4601, { type: "transferExternal",
    params: { number: "7001", callerNumber: "008601000000001", ringTimeoutS: 10,
      holdPrompt: { tts: "Please hold." } } });
  const busy = flow(4602, { type: "transferExternal", params: { number: "7002", ringTimeoutS: 10 } });
  const group = flow(4603, { type: "transferSkillGroup",
    params: { skillGroupId: 12, ringTimeoutS: 5, maxWaitS: 60, queuePrompt: { tts: "Please hold." },
      destinations: [`sip:agent1@127.0.0.1:${PORTS.silent}`, `sip:agent2@127.0.0.1:${PORTS.target}`] } });
  const surveyed = flow(4604, { type: "transferExternal",
    params: { number: "7001", ringTimeoutS: 10, surveyIvrId: 4701 } });
  const survey = JSON.stringify({
    ivrId: 4701, name: "after the call", type: "survey", start: "start",
    nodes: [
      { id: "start", type: "start", next: "rate" },
      { id: "rate", type: "survey", label: "satisfaction",
        params: { prompt: { tts: "Rate us." }, timeoutMs: 10000, retries: 0,
          keys: { 5: "great", 1: "poor" } }, next: "thanks" },
      { id: "thanks", type: "hangup", params: { prompt: { tts: "Thanks." } } },
    ],
  });
  // The number comes from the caller's side (a variable); the trunk "customers" would
  // carry it (route = *): only the allow-list stands between the flow and the call.
  const abroad = JSON.stringify({ ...JSON.parse(flow(4605, { type: "transferExternal",
    params: { number: "${target}", ringTimeoutS: 10 } })), variables: { target: "7001" } });
  const ivrs = [];
  for (const [id, doc, type] of [[4601, ext], [4602, busy], [4603, group], [4604, surveyed],
    [4605, abroad], [4701, survey, "survey"]]) {
    fs.writeFileSync(path.join(d.dir, `${id}.json`), doc);
    ivrs.push(`${id}:${type || "autoOutbound"}:${d.dir}/${id}.json`);
  }
  // The demo calling rules, and the transfer targets 7001 and 7002 (extensions the numbering
  // plan cannot read) opened by name in the destination allow-list.
  const rules = demoRules(d.dir, { destinations: { allow: ["7001", "7002"] } });
  api = client(d.addTenant(SDKAPPID, { ivrs, numbers: ["008675512345678", "008601000000001"],
    rules }), d.endpoint);
});

after(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  await d?.close();
});

// Calls the customer into IVR `ivrId`, presses 1 when the menu speaks, and returns the
// session id with the customer's RTP party (talking once it hears the other side).
async function callAndPress(ivrId, customerRtp) {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "+8612300000000", IVRId: ivrId });
  assert.equal(r.err, undefined, r.message);
  await until(() => customerRtp.peer, 15000, 50, "the menu prompt's RTP");
  await sleep(300);
  await customerRtp.key(1);
  return r.SessionId;
}

test("a transfer to an external number bridges the two legs until the target hangs up", async () => {
  const a = await party(RTP.customer);
  const b = await party(RTP.target);
  try {
    const customer = await sippAt("xfer_caller.xml", PORTS.customer, MEDIA.customer, { rtp_port: RTP.customer });
    const target = await sippAt("xfer_agent.xml", PORTS.target, MEDIA.target, { rtp_port: RTP.target });
    const id = await callAndPress(4601, a);
    await until(() => b.peer, 20000, 50, "the transfer leg's RTP");
    a.talk(0x10);
    b.talk(0x90);
    await until(() => b.heard(0x10) && a.heard(0x90), 4000, 50, "audio both ways");
    await a.key(5);
    await until(() => b.keyHeard(5), 3000, 50, "the key re-sent on the transfer leg");

    const s = await finished(api, SDKAPPID, id, 30000);
    assert.equal(s.OutBoundCallee, "7001");
    assert.equal(s.OutBoundCaller, "008601000000001");
    const cdr = await until(() => cdrOf(api, SDKAPPID, id), 5000, 100, "the CDR");
    assert.equal(cdr.EndStatus, 1);
    assert.equal(cdr.HungUpSide, "seat");
    assert.deepEqual(cdr.IVRKeyPressed, ["1"]);
    assert.equal(cdr.ServeParticipants.length, 1);
    const leg = cdr.ServeParticipants[0];
    assert.equal(leg.Phone, "7001");
    assert.equal(leg.Type, "outboundSeat");
    assert.equal(leg.EndStatusString, "ok");
    assert.ok(leg.AcceptTimestamp >= leg.StartTimestamp && leg.StartTimestamp >= cdr.AcceptTimestamp);
    assert.ok(leg.EndedTimestamp >= leg.AcceptTimestamp && leg.EndedTimestamp <= cdr.EndedTimestamp);
    assert.equal(cdr.QueuedTimestamp, 0);
    assert.equal(cdr.IVRDuration, leg.StartTimestamp - cdr.AcceptTimestamp);
    await until(() => customer.exited() && target.exited(), 5000, 100, "both sipp peers to finish");
    customer.stop();
    target.stop();
  } finally {
    a.close();
    b.close();
  }
});

test("a busy transfer target takes the onFail branch; the customer stays in the IVR", async () => {
  const a = await party(RTP.customer);
  try {
    const customer = await sippAt("xfer_caller.xml", PORTS.customer, MEDIA.customer, { rtp_port: RTP.customer });
    const busy = await sippAt("uas_busy.xml", PORTS.busy, MEDIA.busy);
    const id = await callAndPress(4602, a);
    await finished(api, SDKAPPID, id, 30000);
    const cdr = await until(() => cdrOf(api, SDKAPPID, id), 5000, 100, "the CDR");
    assert.equal(cdr.EndStatus, 1);           // the flow's own hang-up node ("sorry")
    assert.equal(cdr.HungUpSide, "system");
    assert.equal(cdr.ServeParticipants.length, 1);
    assert.equal(cdr.ServeParticipants[0].Phone, "7002");
    assert.equal(cdr.ServeParticipants[0].EndStatusString, "busy");
    assert.equal(cdr.ServeParticipants[0].AcceptTimestamp, 0);
    await d.waitLog(/transfer failed: busy 486/);
    customer.stop();
    busy.stop();
  } finally {
    a.close();
  }
});

test("a skill group tries its destinations in order until one answers", async () => {
  const a = await party(RTP.customer);
  const b = await party(RTP.target);
  try {
    const customer = await sippAt("xfer_caller.xml", PORTS.customer, MEDIA.customer, { rtp_port: RTP.customer });
    const silent = await sippAt("uas_noanswer.xml", PORTS.silent, MEDIA.silent);
    const agent = await sippAt("xfer_agent.xml", PORTS.target, MEDIA.target, { rtp_port: RTP.target });
    const id = await callAndPress(4603, a);
    await until(() => b.peer, 25000, 50, "the second destination's RTP");
    a.talk(0x20);
    await until(() => b.heard(0x20), 4000, 50, "the customer's audio at the agent");

    await finished(api, SDKAPPID, id, 30000);
    const cdr = await until(() => cdrOf(api, SDKAPPID, id), 5000, 100, "the CDR");
    assert.equal(cdr.HungUpSide, "seat");
    assert.equal(cdr.ServeParticipants.length, 2);
    const [first, second] = cdr.ServeParticipants;
    assert.equal(first.Phone, `sip:agent1@127.0.0.1:${PORTS.silent}`);
    assert.equal(first.EndStatusString, "notAnswer");
    assert.equal(first.AcceptTimestamp, 0);
    assert.equal(second.Phone, `sip:agent2@127.0.0.1:${PORTS.target}`);
    assert.equal(second.Type, "staffSeat");
    assert.equal(second.EndStatusString, "ok");
    assert.equal(second.Sequence, 1);
    assert.equal(cdr.SkillGroupId, 12);
    assert.equal(cdr.QueuedSkillGroupId, 12);
    assert.equal(cdr.QueuedTimestamp, first.StartTimestamp);
    customer.stop();
    silent.stop();
    agent.stop();
  } finally {
    a.close();
    b.close();
  }
});

test("after a transfer that names a survey, the customer answers the survey when the target hangs up", async () => {
  const a = await party(RTP.customer);
  const b = await party(RTP.target);
  try {
    const customer = await sippAt("xfer_caller.xml", PORTS.customer, MEDIA.customer, { rtp_port: RTP.customer });
    const target = await sippAt("xfer_agent.xml", PORTS.target, MEDIA.target, { rtp_port: RTP.target });
    const id = await callAndPress(4604, a);
    await until(() => b.peer, 20000, 50, "the transfer leg's RTP");
    await until(() => target.exited(), 15000, 100, "the target to hang up");
    await sleep(2500); // the survey prompt ("Rate us.")
    await a.key(5);

    const s = await finished(api, SDKAPPID, id, 30000);
    assert.equal(s.SessionStatus, "finished");
    const cdr = await until(() => cdrOf(api, SDKAPPID, id), 5000, 100, "the CDR");
    assert.deepEqual(cdr.IVRKeyPressed, ["1"]);
    assert.equal(cdr.PostIVRKeyPressed.length, 1, JSON.stringify(cdr.PostIVRKeyPressed));
    assert.equal(cdr.PostIVRKeyPressed[0].Key, "5");
    assert.equal(cdr.PostIVRKeyPressed[0].Label, "great");
    assert.equal(cdr.PostIVRKeyPressed[0].NodeLabel, "satisfaction");
    assert.equal(cdr.ServeParticipants.length, 1);
    assert.equal(cdr.ServeParticipants[0].EndStatusString, "ok");
    assert.equal(cdr.EndStatus, 1);
    assert.equal(cdr.HungUpSide, "system"); // the survey's own hang-up node
    await d.waitLog(/post-call survey IVR 4701/);
    await until(() => customer.exited(), 5000, 100, "the customer's sipp to finish");
  } finally {
    a.close();
    b.close();
  }
});

test("a transfer to a blocked international number is refused: onFail, the record shows it",
  async () => {
    const a = await party(RTP.customer);
    try {
      const customer = await sippAt("xfer_caller.xml", PORTS.customer, MEDIA.customer, { rtp_port: RTP.customer });
      const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "+8612300000000",
        IVRId: 4605, Variables: [{ Key: "target", Value: "+442079460000" }] });
      assert.equal(r.err, undefined, r.message);
      await until(() => a.peer, 15000, 50, "the menu prompt's RTP");
      await sleep(300);
      await a.key(1);
      await finished(api, SDKAPPID, r.SessionId, 30000);
      const cdr = await until(() => cdrOf(api, SDKAPPID, r.SessionId), 5000, 100, "the CDR");
      assert.equal(cdr.ServeParticipants.length, 1, JSON.stringify(cdr.ServeParticipants));
      assert.equal(cdr.ServeParticipants[0].Phone, "+442079460000");
      assert.equal(cdr.ServeParticipants[0].EndStatusString, "restrictedCallee");
      assert.equal(cdr.ServeParticipants[0].AcceptTimestamp, 0);
      await d.waitLog(new RegExp(`${r.SessionId} finished: EndStatus 1 \\(ok\\), hung up by system: hangup node sorry`), "the onFail branch");
      await d.waitLog(/refused \(destination, \d+ so far\): session [0-9a-f]{32} \(instance 1400000300\): transfer to \+442079460000/);
      assert.doesNotMatch(d.log, /transfer to \+442079460000\n/, "no INVITE was sent");
      customer.stop();
    } finally {
      a.close();
    }
  });
