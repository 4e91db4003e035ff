// AI licences and the speech node through the official SDK: AIConcurrentNoPackage and
// AIConcurrentOverFrequency from real conditions (licences set by an operator over the
// admin API, flows put over it), each next to a control request that passes; 20
// concurrent requests against 3 channels; and a speech node end to end — sipp answers and
// speaks (RTP), cccd records the answer and POSTs it to a recogniser (a Node HTTP server
// here), and the branch and the recognised text show in the call record.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf } from "./lib/cccd.mjs";
import { adminClient, flowText } from "./lib/admin.mjs";

const ASR_PORT = 16350;
let d, phone, op, asr, audio, heard = [];
let asrReply = { status: 200, body: { text: "I would like to pay my bill", intent: "billing" } };
const OPEN = JSON.stringify({ work_time: { enabled: false }, blind_area: { enabled: false },
  callee_interval: { max: 0 }, callee_daily: { max: 0 }, caller_freq: { max: 0 },
  caller_concurrency: 0 });

// Every node type ends the call with its own EndStatus, so the CDR tells the branch.
const speechFlow = (ivrId) => flowText({ ivrId, name: "ai", type: "autoOutbound", start: "s",
  nodes: [
    { id: "s", type: "start", next: "ask" },
    { id: "ask", type: "speech", label: "reason", params: {
      prompt: { tts: "Why are you calling?" }, url: `http://127.0.0.1:${ASR_PORT}/asr`,
      maxLenS: 2, intents: { billing: { label: "bill", next: "bill" } } },
    next: "other", onFail: "failed" },
    { id: "bill", type: "hangup", params: { endStatus: "ok" } },
    { id: "other", type: "hangup", params: { endStatus: "notWorkTime" } },
    { id: "failed", type: "hangup", params: { endStatus: "error" } },
  ] });
const plainFlow = (ivrId) => flowText({ ivrId, name: "plain", type: "autoOutbound", start: "s",
  nodes: [{ id: "s", type: "start", next: "e" }, { id: "e", type: "hangup" }] });

// Mono 16-bit WAV → RMS of its samples.
function wavRms(buf) {
  assert.equal(buf.toString("latin1", 0, 4), "RIFF");
  assert.equal(buf.readUInt16LE(22), 1, "mono");
  assert.equal(buf.readUInt16LE(34), 16);
  const n = buf.readUInt32LE(40) / 2;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += buf.readInt16LE(44 + 2 * i) ** 2;
  return { n, rms: Math.sqrt(sum / Math.max(n, 1)) };
}

before(async () => {
  audio = path.join(fsTmp(), "speak.ul");
  execFileSync("sox", ["-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", audio,
    "synth", "10", "sine", "300-900", "gain", "-6"]);
  asr = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      heard.push({ type: req.headers["content-type"], body: Buffer.concat(chunks) });
      res.writeHead(asrReply.status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(asrReply.body));
    });
  });
  await new Promise((r) => asr.listen(ASR_PORT, "127.0.0.1", r));
  // sipp does not substitute keywords in rtp_stream: the scenario gets the file's path.
  const scenario = path.join(path.dirname(audio), "uas_answer_speak.xml");
  fs.writeFileSync(scenario, fs.readFileSync(path.join(ROOT, "tests/sip/uas_answer_speak.xml"),
    "utf8").replaceAll("[audio]", audio));
  phone = await sipp(scenario, { port: 16301, args: ["-mp", "16330"] });
  // 0044 numbers reach the speaking phone; 0086 numbers a trunk where nobody answers, so
  // those sessions stay live (ringing) while a test counts channels.
  d = await startCccd({ trunkPort: phone.port, rtpBase: 33100, sections:
    "[trunk nowhere]\nhost = 127.0.0.1\nport = 9\ntransport = udp\nroute = 0086\noptions_interval = 0\n" });
  op = adminClient(d.ccc(["admin", "--config", d.confPath, "operator-add"]).trim().split("\n")
    .reduce((o, l) => { const [k, v] = l.split("="); o[k] = v; return o; }, {}), d.endpoint);
});

after(async () => {
  await d?.close();
  await phone?.stop();
  await new Promise((r) => (asr ? asr.close(r) : r()));
  fs.rmSync(path.dirname(audio), { recursive: true, force: true });
});

function fsTmp() {
  return fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "cccd-ai-"));
}

// A tenant with an AI IVR 1 and a plain IVR 2, both put over the admin API.
async function tenant(sdkappid) {
  const creds = d.addTenant(sdkappid, { numbers: ["008601012345678"] });
  const adm = adminClient(creds, d.endpoint);
  assert.equal((await adm("CccdModifyCalloutRules", { SdkAppId: sdkappid, Rules: OPEN })).err, undefined);
  const ai = await adm("CccdPutIVRFlow", { SdkAppId: sdkappid, IVRId: 1, Flow: speechFlow(1) });
  assert.equal(ai.UsesAI, true);
  const plain = await adm("CccdPutIVRFlow", { SdkAppId: sdkappid, IVRId: 2, Flow: plainFlow(2) });
  assert.equal(plain.UsesAI, false);
  return { sdkappid, api: client(creds, d.endpoint), adm };
}

const create = (t, ivr, callee = "008613800138000") =>
  t.api.CreateIVRSession({ SdkAppId: t.sdkappid, Callee: callee, IVRId: ivr });

test("an AI flow without AI channels: FailedOperation.AIConcurrentNoPackage", async () => {
  const t = await tenant(1400004001);
  const r = await create(t, 1);
  assert.equal(r.err, "FailedOperation.AIConcurrentNoPackage");
  assert.match(r.message, /AI licence/);
  const plain = await create(t, 2);
  assert.equal(plain.err, undefined, "a flow without AI needs no licence");
  assert.equal((await op("CccdModifyInstance", { SdkAppId: t.sdkappid, AIChannels: 1 })).err, undefined);
  const ok = await create(t, 1);
  assert.equal(ok.err, undefined, "with a channel licensed the same request passes");
  await t.api.HangUpCall({ SdkAppId: t.sdkappid, SessionId: ok.SessionId });
  await t.api.HangUpCall({ SdkAppId: t.sdkappid, SessionId: plain.SessionId });
});

test("20 concurrent AI requests with 3 channels: exactly 3 pass, the rest AIConcurrentOverFrequency", async () => {
  const t = await tenant(1400004002);
  assert.equal((await op("CccdModifyInstance", { SdkAppId: t.sdkappid, AIChannels: 3 })).err, undefined);
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    create(t, 1, `0086138001380${String(i).padStart(2, "0")}`)));
  const passed = rs.filter((r) => !r.err);
  assert.equal(passed.length, 3);
  for (const r of rs.filter((x) => x.err))
    assert.equal(r.err, "FailedOperation.AIConcurrentOverFrequency");
  assert.match(rs.find((x) => x.err).message, /all 3 AI channels are in use/);
  await new Promise((r) => setTimeout(r, 1100)); // past the per-second rate limit
  const plain = await create(t, 2);
  assert.equal(plain.err, undefined, "a flow without AI is not limited by AI channels");

  // A channel comes free when its session ends; a licence raised applies at once.
  await t.api.HangUpCall({ SdkAppId: t.sdkappid, SessionId: passed[0].SessionId });
  await finished(t.api, t.sdkappid, passed[0].SessionId);
  const again = await create(t, 1, "008613800138099");
  assert.equal(again.err, undefined);
  assert.equal((await create(t, 1, "008613800138098")).err, "FailedOperation.AIConcurrentOverFrequency");
  assert.equal((await op("CccdModifyInstance", { SdkAppId: t.sdkappid, AIChannels: 4 })).err, undefined);
  const more = await create(t, 1, "008613800138098");
  assert.equal(more.err, undefined);
  for (const s of [...passed.slice(1), again, more, plain])
    await t.api.HangUpCall({ SdkAppId: t.sdkappid, SessionId: s.SessionId });
});

test("a speech node end to end: the caller's audio reaches the recogniser, its intent picks the branch, the text is in the record", async () => {
  const t = await tenant(1400004003);
  assert.equal((await op("CccdModifyInstance", { SdkAppId: t.sdkappid, AIChannels: 2 })).err, undefined);
  heard = [];
  asrReply = { status: 200, body: { text: "I would like to pay my bill", intent: "billing" } };
  const r = await create(t, 1, "00442079460958");
  assert.equal(r.err, undefined);
  await finished(t.api, t.sdkappid, r.SessionId, 40000);
  const cdr = await cdrOf(t.api, t.sdkappid, r.SessionId);
  assert.equal(cdr.EndStatus, 1, "the billing branch (hangup ok)");
  assert.equal(cdr.HungUpSide, "system");
  assert.deepEqual(cdr.IVRKeyPressed, ["billing"]);
  const k = cdr.IVRKeyPressedEx[0];
  assert.equal(k.Key, "billing");
  assert.equal(k.Label, "bill");
  assert.equal(k.NodeLabel, "reason");
  assert.equal(k.OriginalContent, "I would like to pay my bill");
  assert.equal(k.TTSPrompt, "Why are you calling?");
  assert.equal(heard.length, 1);
  assert.equal(heard[0].type, "audio/wav");
  const { n, rms } = wavRms(heard[0].body);
  assert.ok(n >= 8000, `about 2 s of audio (${n} samples)`);
  assert.ok(rms > 300, `the caller's voice, not silence (rms ${rms.toFixed(0)})`);
  const files = fs.readdirSync(path.join(d.dir, "recordings")).filter((f) => f.includes("speech"));
  assert.deepEqual(files, [], "the answer's file is removed once read");

  // The recogniser fails: the onFail branch, nothing recorded as input.
  asrReply = { status: 503, body: { error: "busy" } };
  const f = await create(t, 1, "00442079460959");
  assert.equal(f.err, undefined);
  await finished(t.api, t.sdkappid, f.SessionId, 40000);
  const fc = await cdrOf(t.api, t.sdkappid, f.SessionId);
  assert.equal(fc.EndStatus, 0, "the onFail branch (hangup error)");
  assert.deepEqual(fc.IVRKeyPressed, []);

  // Recognised text without a listed intent: the `next` branch.
  asrReply = { status: 200, body: { text: "just checking" } };
  const o = await create(t, 1, "00442079460957");
  await finished(t.api, t.sdkappid, o.SessionId, 40000);
  const oc = await cdrOf(t.api, t.sdkappid, o.SessionId);
  assert.equal(oc.EndStatus, 106);
  assert.equal(oc.IVRKeyPressedEx[0].OriginalContent, "just checking");
});
