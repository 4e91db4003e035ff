// A speech (AI) node end to end: a sipp phone answers, speaks a tone and ends with #; cccd
// records the answer and POSTs it as WAV to a local Node HTTP server playing the
// recogniser, whose {"text", "intent"} picks the branch. Checked: the WAV the recogniser got,
// the branch taken (the session path), the recognised text as OriginalContent in the CDR,
// and the onFail branch when the recogniser fails or the answer cannot be recorded. Each
// instance holds one AI channel.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, until, freePort } from "./lib/cccd.mjs";
import { toneSamples, writePcap } from "./lib/rtp.mjs";

const A = 1400006001;
const B = 1400006002; // its recordings cannot be written
let PHONE_PORT; // handed out in before()
let d, phone, api, apiB, asr, asrPort, bodies = [], reply = { status: 200, body: "{}" };

function pathOf(sessionId) {
  return d.sql(`SELECT node || '=' || result FROM session_path WHERE session_id = '${sessionId}' ORDER BY seq`).trim().split("\n");
}

before(async () => {
  PHONE_PORT = await freePort();
  asr = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      bodies.push({ type: req.headers["content-type"], auth: req.headers.authorization,
        body: Buffer.concat(chunks) });
      res.writeHead(reply.status, { "Content-Type": "application/json" });
      res.end(reply.body);
    });
  });
  await new Promise((r) => asr.listen(0, "127.0.0.1", r));
  asrPort = asr.address().port;
  d = await startCccd({ sections: [
    "[trunk phone]", "host = 127.0.0.1", `port = ${PHONE_PORT}`, "transport = udp",
    "route = *", "options_interval = 0"].join("\n") });
  const tone = path.join(d.dir, "tone-2s.pcap");
  writePcap(tone, toneSamples(700, 2), "pcma");
  const scenario = path.join(d.dir, "ivr_speech.xml");
  fs.writeFileSync(scenario, fs.readFileSync(path.join(ROOT, "tests/sip/ivr_speech.xml"), "utf8")
    .replaceAll("TONE_PCAP", tone));
  phone = await sipp(scenario, { port: PHONE_PORT, args: ["-m", "4"] });
  const flow = JSON.stringify({ type: "autoOutbound", nodes: [
    { id: "s", type: "start", next: "ask" },
    { id: "ask", type: "speech", label: "reason", params: { prompt: { tts: "Yes?" },
      url: `http://127.0.0.1:${asrPort}/asr`, headers: { Authorization: "Bearer ${SystemSessionId}" },
      maxLenS: 20, intents: { billing: "bill" } }, next: "other", onFail: "sorry" },
    { id: "bill", type: "hangup", params: { endStatus: "ok" } },
    { id: "other", type: "hangup", params: { endStatus: "ivrEnd" } },
    { id: "sorry", type: "hangup", params: { endStatus: "error" } }] });
  fs.writeFileSync(path.join(d.dir, "speech.json"), flow);
  // No end key: only the caller's silence (or maxLenS) ends the answer. The goodbye is
  // long enough that the phone's late # (ignored) goes out before the BYE.
  fs.writeFileSync(path.join(d.dir, "silence.json"), JSON.stringify({ type: "autoOutbound", nodes: [
    { id: "s", type: "start", next: "ask" },
    { id: "ask", type: "speech", params: { prompt: { tts: "Yes?" }, url: `http://127.0.0.1:${asrPort}/asr`,
      maxLenS: 20, silenceMs: 600, endKey: "" }, next: "bye", onFail: "bye" },
    { id: "bye", type: "hangup", params: { prompt: { tts: "Thank you for calling us today. Goodbye and have a nice day." } } }] }));
  const creds = d.tenant(["--sdkappid", String(A), "--rules", "demo", "--ai-channels", "1",
    "--ivr", `1:autoOutbound:${d.dir}/speech.json`, "--ivr", `2:autoOutbound:${d.dir}/silence.json`,
    "--number", "008601012345678"]);
  api = client(creds, d.endpoint);
  apiB = client(d.tenant(["--sdkappid", String(B), "--rules", "demo", "--ai-channels", "1",
    "--ivr", `1:autoOutbound:${d.dir}/speech.json`, "--number", "008601012345679"]), d.endpoint);
  // The instance's recording folder is a file: no answer of B can be written.
  fs.writeFileSync(path.join(d.dir, "recordings", String(B)), "");
});

after(async () => {
  await d?.close();
  await phone?.stop();
  asr?.close();
});

async function call(callee, ivr = 1, [c, app] = [api, A]) {
  const r = await c.CreateIVRSession({ SdkAppId: app, Callee: callee, IVRId: ivr });
  assert.equal(r.err, undefined, r.message);
  await finished(c, app, r.SessionId, 60000);
  const cdr = await until(() => cdrOf(c, app, r.SessionId), 5000, 100, "the CDR");
  return { id: r.SessionId, cdr };
}

test("the caller's answer goes to the recogniser as WAV; its intent picks the branch", async () => {
  reply = { status: 200, body: JSON.stringify({ text: "I have a billing question", intent: "billing" }) };
  const { id, cdr } = await call("008613800138000");
  assert.equal(bodies.length, 1);
  const { type, auth, body } = bodies[0];
  assert.equal(type, "audio/wav");
  assert.equal(auth, `Bearer ${id}`);
  assert.equal(body.toString("latin1", 0, 4), "RIFF");
  assert.equal(body.toString("latin1", 8, 12), "WAVE");
  assert.equal(body.readUInt16LE(22), 1, "mono");
  assert.equal(body.readUInt32LE(24), 8000, "8 kHz");
  // At least a second of the 2 s tone at 16 kB/s, and it is not silence.
  assert.ok(body.length > 16000, `only ${body.length} bytes`);
  let peak = 0;
  for (let i = 44; i + 1 < body.length; i += 2) peak = Math.max(peak, Math.abs(body.readInt16LE(i)));
  assert.ok(peak > 2000, `peak ${peak}`);

  assert.equal(cdr.EndStatus, 1, JSON.stringify(cdr));
  assert.deepEqual(pathOf(id).map((s) => s.split("=")[0]), ["s", "ask", "bill"]);
  assert.equal(pathOf(id)[1], "ask=intent:billing");
  assert.equal(cdr.IVRKeyPressedEx.length, 1);
  assert.equal(cdr.IVRKeyPressedEx[0].Key, "billing");
  assert.equal(cdr.IVRKeyPressedEx[0].OriginalContent, "I have a billing question");
  assert.equal(cdr.IVRKeyPressedEx[0].NodeLabel, "reason");
  assert.equal(cdr.IVRKeyPressedEx[0].TTSPrompt, "Yes?");
});

test("a recogniser failure leaves by onFail; the channel is free again for the next call", async () => {
  reply = { status: 500, body: "down" };
  const { id, cdr } = await call("008613800138001");
  assert.equal(bodies.length, 2);
  assert.equal(pathOf(id)[1], "ask=error:status 500");
  assert.deepEqual(pathOf(id).map((s) => s.split("=")[0]), ["s", "ask", "sorry"]);
  assert.equal(cdr.EndStatus, 0);
  assert.equal((cdr.IVRKeyPressedEx || []).length, 0);
});

test("an answer that cannot be recorded leaves by onFail, without the recogniser", async () => {
  const { id, cdr } = await call("008613800138003", 1, [apiB, B]);
  assert.equal(bodies.length, 2);
  assert.equal(pathOf(id)[1], "ask=error:recording: Input/output error");
  assert.deepEqual(pathOf(id).map((s) => s.split("=")[0]), ["s", "ask", "sorry"]);
  assert.equal(cdr.EndStatus, 0);
  await d.waitLog(new RegExp(`${id}: recording .*${B}/${id}-speech\\.wav`));
  await d.waitLog(/node ask: the answer was not recorded/);
});

test("without an end key, the caller's silence after speaking ends the answer", async () => {
  reply = { status: 200, body: JSON.stringify({ text: "hello there" }) };
  const { id, cdr } = await call("008613800138002", 2);
  assert.equal(bodies.length, 3);
  const { body } = bodies[2];
  // The 2 s tone and 0.6 s of silence after it, far from the 20 s limit.
  assert.ok(body.length > 16000 && body.length < 8 * 16000, `${body.length} bytes`);
  assert.equal(pathOf(id)[1], "ask=recognised:-");
  assert.equal(cdr.IVRKeyPressedEx[0].OriginalContent, "hello there");
  assert.equal(await phone.wait(20000), 0, phone.log.slice(-2000));
});

test("ccc ivr simulate runs a speech node against a stubbed recogniser", () => {
  const out = d.ccc(["ivr", "simulate", path.join(d.dir, "speech.json"), "--speed", "20",
    "--http-stub", `http://127.0.0.1:${asrPort}/asr={"text":"my bill","intent":"billing"}`]);
  assert.match(out, /input +Key "billing" .*OriginalContent "my bill" TTSPrompt "Yes\?"/);
  assert.match(out, /path +ask \(reason\) -> intent:billing/);
  assert.match(out, /SpeechText = "my bill"/);
});
