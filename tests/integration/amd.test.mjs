// Answering-machine detection on real calls: a sipp callee answers and speaks — a person's
// short "Hello?" then a quiet line, or an answering machine's long greeting, its beep and a
// quiet line (espeak-ng and sox make the voices at test time; PCMA RTP from a pcap). The
// flow's amd node takes the human or the machine exit (the session path says which), the
// machine branch waits for the beep and leaves a message, and the record says what
// happened: EndStatus 1 for the person, 222 (voiceMailReached) for the machine, and
// CccdEvidence.Amd in DescribeTelCdr and in the CDR push body alike. Also: detection
// turned on by the CccdAmd variable in a flow without an amd node (onMachine: hang up),
// a callee that sends no RTP (heard as silence: unsure), a person whose phone stops its RTP
// after "Hello?" (silence suppression: still a person), turned off by the
// variable (no Amd in the record), a bad CccdAmd value, a bad flow setting, and the
// simulator's --amd.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT, startCccd, client, sipp, finished, until, freePort, httpListen } from "./lib/cccd.mjs";
import { toneSamples, writePcap } from "./lib/rtp.mjs";

const A = 1400007001;
const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));
let d, api, raw, PHONE_PORT, human, machine, rx;
const pushes = [];

// Any action through the SDK's common client, the answer as sent: the SDK's models drop
// CccdEvidence (cccd's addition).
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

// 8 kHz samples of `text` spoken by espeak-ng, telephone band.
function say(text, voice = "en-us", speed = 160) {
  const wav = path.join(d.dir, `say-${Math.random().toString(36).slice(2)}.wav`);
  execFileSync("espeak-ng", ["-v", voice, "-s", String(speed), "-w", wav, text]);
  const pcm = execFileSync("sox", [wav, "-t", "raw", "-r", "8000", "-c", "1", "-e", "signed",
    "-b", "16", "-", "sinc", "300-3400", "gain", "-n", "-6"]);
  return Array.from({ length: pcm.length >> 1 }, (_, i) => pcm.readInt16LE(2 * i));
}

// A quiet line: low noise, as a real line is never digital silence.
function quiet(seconds) {
  return Array.from({ length: Math.round(seconds * 8000) }, () => Math.round((Math.random() - 0.5) * 40));
}

function pathOf(sessionId) {
  return d.sql(`SELECT node || '=' || result FROM session_path WHERE session_id = '${sessionId}' ORDER BY seq`).trim().split("\n");
}

before(async () => {
  PHONE_PORT = await freePort();
  d = await startCccd({ sections: [
    "[trunk phone]", "host = 127.0.0.1", `port = ${PHONE_PORT}`, "transport = udp",
    "route = *", "options_interval = 0"].join("\n") });
  human = path.join(d.dir, "human.pcap");
  writePcap(human, [...quiet(0.3), ...say("Hello?"), ...quiet(10)], "pcma");
  machine = path.join(d.dir, "machine.pcap");
  writePcap(machine, [...quiet(0.3), ...say("Hi, you have reached the voicemail of John Smith. " +
    "I am not available to take your call right now. Please leave your name, your number " +
    "and a short message after the tone, and I will call you back as soon as I can."),
  ...quiet(0.5), ...toneSamples(1000, 0.6, 8000), ...quiet(15)], "pcma");

  // The amd node after a greeting: human → a goodbye; machine → wait for the beep, leave
  // a message, hang up.
  fs.writeFileSync(path.join(d.dir, "amd.json"), JSON.stringify({ type: "autoOutbound",
    amd: { enabled: true }, nodes: [
      { id: "s", type: "start", next: "hi" },
      { id: "hi", type: "prompt", params: { tts: "Hi." }, next: "who" },
      { id: "who", type: "amd", params: { timeoutMs: 15000 }, human: "bye", machine: "beep",
        unsure: "unsure" },
      { id: "bye", type: "hangup", params: { prompt: { tts: "Goodbye." } } },
      { id: "beep", type: "waitBeep", params: { timeoutMs: 20000 }, next: "msg", onTimeout: "msg" },
      { id: "msg", type: "prompt", params: { tts: "This is cccd. Please call us back." }, next: "end" },
      { id: "end", type: "hangup" },
      { id: "unsure", type: "hangup", params: { endStatus: "error" } }] }));
  // No amd node and no amd setting: the CccdAmd variable turns detection on, and MACHINE
  // hangs up (onMachine's default) while the long prompt plays.
  fs.writeFileSync(path.join(d.dir, "plain.json"), JSON.stringify({ type: "autoOutbound", nodes: [
    { id: "s", type: "start", next: "talk" },
    { id: "talk", type: "prompt", params: { tts: "Hello, this is a reminder of your appointment " +
      "tomorrow at ten in the morning. Please be on time. We look forward to seeing you. " +
      "Thank you and have a nice day. This message will now repeat.", plays: 3 }, next: "end" },
    { id: "end", type: "hangup" }] }));
  const creds = d.tenant(["--sdkappid", String(A), "--rules", "demo",
    "--ivr", `1:autoOutbound:${d.dir}/amd.json`, "--ivr", `2:autoOutbound:${d.dir}/plain.json`,
    "--number", "008601012345678"]);
  api = client(creds, d.endpoint);
  raw = rawClient(creds);
  rx = await httpListen((req, body, res) => {
    pushes.push(JSON.parse(body));
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0,"ErrMsg":"ok"}');
  });
  d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(A),
    "--url", `http://127.0.0.1:${rx.port}/push`, "--events", "cdr"]);
});

after(async () => {
  await d?.close();
  rx?.server.close();
});

// One call answered by a sipp playing `pcap`; the session's CDR as DescribeTelCdr gives
// it (raw) and as the CDR push carries it.
async function call(pcap, { ivr = 1, vars } = {}) {
  const scenario = path.join(d.dir, `greeting-${path.basename(pcap)}.xml`);
  fs.writeFileSync(scenario, fs.readFileSync(path.join(ROOT, "tests/sip/uas_answer_greeting.xml"),
    "utf8").replaceAll("GREETING_PCAP", pcap));
  const phone = await sipp(scenario, { port: PHONE_PORT, args: ["-m", "1"] });
  try {
    const r = await api.CreateIVRSession({ SdkAppId: A, Callee: "008613800138000", IVRId: ivr,
      ...(vars ? { Variables: vars } : {}) });
    assert.equal(r.err, undefined, r.message);
    await finished(api, A, r.SessionId, 60000);
    assert.equal(await phone.wait(20000), 0, phone.log.slice(-2000));
    const now = Math.floor(Date.now() / 1000);
    const cdrs = await raw("DescribeTelCdr", { SdkAppId: A, StartTimeStamp: now - 3600,
      EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0, SessionIds: [r.SessionId] });
    assert.equal(cdrs.err, undefined, cdrs.message);
    const push = await until(() => pushes.find((p) => p.SessionId === r.SessionId), 10000, 100,
      "the CDR push");
    return { id: r.SessionId, cdr: cdrs.TelCdrList[0], push };
  } finally {
    await phone.stop();
  }
}

test("a person's short hello takes the human exit; the record says human", async () => {
  const { id, cdr, push } = await call(human);
  assert.deepEqual(pathOf(id).map((s) => s.split("=")[0]), ["s", "hi", "who", "bye"]);
  assert.equal(pathOf(id)[2], "who=human");
  assert.equal(cdr.EndStatus, 1, JSON.stringify(cdr));
  const amd = cdr.CccdEvidence.Amd;
  assert.equal(amd.Verdict, "human", JSON.stringify(cdr.CccdEvidence));
  assert.ok(amd.DecisionMs > 0 && amd.DecisionMs < 10000, JSON.stringify(amd));
  assert.equal(amd.BeepMs, 0);
  assert.deepEqual(push.CccdEvidence.Amd, amd);
  console.log(`amd: human decided after ${amd.DecisionMs} ms of audio`);
});

test("an answering machine takes the machine exit, the message follows the beep, EndStatus 222", async () => {
  const { id, cdr, push } = await call(machine);
  const steps = pathOf(id);
  assert.deepEqual(steps.map((s) => s.split("=")[0]), ["s", "hi", "who", "beep", "msg", "end"]);
  assert.equal(steps[2], "who=machine");
  assert.equal(steps[3], "beep=beep", "the beep was heard");
  assert.equal(cdr.EndStatus, 222, JSON.stringify(cdr));
  assert.equal(cdr.EndStatusString, "voiceMailReached");
  const amd = cdr.CccdEvidence.Amd;
  assert.equal(amd.Verdict, "machine", JSON.stringify(cdr.CccdEvidence));
  assert.ok(amd.DecisionMs > 0, JSON.stringify(amd));
  assert.ok(amd.BeepMs > amd.DecisionMs, JSON.stringify(amd));
  assert.ok(Math.abs(amd.BeepHz - 1000) < 50, JSON.stringify(amd));
  assert.deepEqual(push.CccdEvidence.Amd, amd);
  assert.equal(push.EndStatus, 222);
  console.log(`amd: machine decided after ${amd.DecisionMs} ms; beep ended at ${amd.BeepMs} ms (${amd.BeepHz} Hz)`);
});

test("CccdAmd on in a flow without an amd node: a machine is hung up on (onMachine), 222", async () => {
  const { id, cdr } = await call(machine, { ivr: 2, vars: [{ Key: "CccdAmd", Value: "on" }] });
  assert.deepEqual(pathOf(id), ["s=next", "talk=amd:machine"]);
  assert.equal(cdr.EndStatus, 222, JSON.stringify(cdr));
  assert.equal(cdr.CccdEvidence.Amd.Verdict, "machine");
});

test("a callee that sends no audio is heard as silence: unsure after [amd] initial_silence_ms", async () => {
  const mute = path.join(d.dir, "mute.pcap");
  writePcap(mute, [], "pcma");
  const { id, cdr } = await call(mute);
  assert.equal(pathOf(id)[2], "who=unsure");
  assert.equal(cdr.EndStatus, 0);
  const amd = cdr.CccdEvidence.Amd;
  assert.equal(amd.Verdict, "unsure", JSON.stringify(amd));
  // the detector's own silence rule (4 s by default), not the session's 8 s bound
  assert.ok(amd.DecisionMs >= 3000 && amd.DecisionMs < 8000, JSON.stringify(amd));
  assert.equal(amd.BeepMs, 0);
});

test("a person whose phone stops its RTP after \"Hello?\" (silence suppression) is human", async () => {
  const dtx = path.join(d.dir, "dtx.pcap");
  writePcap(dtx, [...quiet(0.3), ...say("Hello?")], "pcma");
  const { id, cdr } = await call(dtx);
  assert.equal(pathOf(id)[2], "who=human");
  assert.equal(cdr.EndStatus, 1, JSON.stringify(cdr));
  const amd = cdr.CccdEvidence.Amd;
  assert.equal(amd.Verdict, "human", JSON.stringify(amd));
  assert.ok(amd.DecisionMs > 0 && amd.DecisionMs < 4000, JSON.stringify(amd));
});

test("CccdAmd off: no detection — the amd node takes unsure, the record has no Amd", async () => {
  const { id, cdr, push } = await call(human, { vars: [{ Key: "CccdAmd", Value: "off" }] });
  assert.equal(pathOf(id)[2], "who=unsure:off");
  assert.equal(cdr.EndStatus, 0);
  assert.ok(cdr.CccdEvidence.CallId, JSON.stringify(cdr.CccdEvidence));
  assert.equal(cdr.CccdEvidence.Amd, undefined);
  assert.equal(push.CccdEvidence.Amd, undefined);
});

test("a bad CccdAmd value is refused, naming it", async () => {
  const r = await api.CreateIVRSession({ SdkAppId: A, Callee: "008613800138000", IVRId: 1,
    Variables: [{ Key: "x", Value: "1" }, { Key: "CccdAmd", Value: "yes" }] });
  assert.equal(r.err, "InvalidParameterValue");
  assert.match(r.message, /`Variables\.1\.Value` \(CccdAmd.*must be `on` or `off`/);
});

test("a bad amd flow setting and an amd node in an inbound flow are validation findings", async () => {
  const put = (doc) => raw("CccdPutIVRFlow", { SdkAppId: A, IVRId: 9, Document: JSON.stringify(doc) });
  let r = await put({ type: "autoOutbound", amd: { enabled: true, onMachine: "voicemail" },
    nodes: [{ id: "s", type: "start", next: "e" }, { id: "e", type: "hangup" }] });
  assert.equal(r.err, "InvalidParameterValue");
  assert.match(r.message, /amd\.onMachine: 'voicemail' is not one of hangup continue/);
  r = await put({ type: "inbound", nodes: [{ id: "s", type: "start", next: "w" },
    { id: "w", type: "amd", human: "e", machine: "e", unsure: "e" }, { id: "e", type: "hangup" }] });
  assert.equal(r.err, "InvalidParameterValue");
  assert.match(r.message, /node 'w' type: an amd node is for autoOutbound flows/);
});

test("ccc ivr simulate plays a verdict and a beep through the amd and waitBeep nodes", () => {
  const flow = path.join(d.dir, "amd.json");
  let out = d.ccc(["ivr", "simulate", flow, "--amd", "machine", "--beep"]);
  assert.match(out, /path +who -> machine/);
  assert.match(out, /path +beep -> beep/);
  assert.match(out, /hangup +EndStatus 222 voiceMailReached/);
  out = d.ccc(["ivr", "simulate", flow, "--amd", "human"]);
  assert.match(out, /path +who -> human/);
  out = d.ccc(["ivr", "simulate", flow]);
  assert.match(out, /path +who -> unsure:off/);
});
