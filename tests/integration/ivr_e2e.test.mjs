// End to end over real SIP: sipp phones press keys with RFC 4733 and speak from a pcap;
// IVR flows with a menu, a digit collection ended by #, an HTTP node against a local
// server (success, an error status, a timeout) and a voicemail; recordings asked by the
// flow ("record": true) and by the instance (ccc admin instance-set --record yes). Checked:
// DescribeTelCdr's key presses, the path the run took, the voicemail and call recordings
// downloaded through their signed links (stereo: the callee left, cccd's prompts right),
// refusals of tampered links and of another instance's path, and the pushes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, until, freePort, httpListen } from "./lib/cccd.mjs";
import { toneSamples, writePcap } from "./lib/rtp.mjs";

const A = 1400000300;   // tenant A: flows with recording asked by the flow
const B = 1400000400;   // tenant B: recording asked by the instance
let VM_PORT, COLLECT_PORT; // handed out in before()
let d, vmPhone, collectPhone, apiA, apiB, pushes = [], servers = [], sockets = new Set();

// ---- audio helpers -------------------------------------------------------------------

// A WAV file's format and samples (16-bit PCM), checked against its own header sizes.
function wavParse(buf) {
  assert.equal(buf.toString("ascii", 0, 4), "RIFF");
  assert.equal(buf.toString("ascii", 8, 12), "WAVE");
  assert.equal(buf.readUInt32LE(4), buf.length - 8, "RIFF size matches the file");
  let off = 12, fmt = null, data = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString("ascii", off, off + 4), len = buf.readUInt32LE(off + 4);
    if (id === "fmt ") fmt = { channels: buf.readUInt16LE(off + 10), rate: buf.readUInt32LE(off + 12),
      bits: buf.readUInt16LE(off + 22) };
    if (id === "data") data = buf.subarray(off + 8, off + 8 + len);
    off += 8 + len + (len & 1);
  }
  assert.ok(fmt && data, "fmt and data chunks");
  const n = data.length / 2 / fmt.channels;
  const ch = Array.from({ length: fmt.channels }, () => new Float64Array(n));
  for (let i = 0; i < n; i++)
    for (let c = 0; c < fmt.channels; c++) ch[c][i] = data.readInt16LE((i * fmt.channels + c) * 2);
  return { ...fmt, frames: n, ch };
}

// Power at `hz` (Goertzel) and total power of a channel.
function powerAt(x, hz) {
  const w = 2 * Math.PI * hz / 8000, c = 2 * Math.cos(w);
  let s1 = 0, s2 = 0;
  for (const v of x) { const s0 = v + c * s1 - s2; s2 = s1; s1 = s0; }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / x.length;
}
function energy(x) {
  let e = 0;
  for (const v of x) e += v * v;
  return e / x.length;
}

// ---- servers ---------------------------------------------------------------------------

async function listen(handler) {
  const { port, server } = await httpListen(handler);
  server.on("connection", (c) => { sockets.add(c); c.on("close", () => sockets.delete(c)); });
  servers.push(server);
  return port;
}

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks) }));
    }).on("error", reject).setTimeout(10000, function () { this.destroy(new Error("timeout")); });
  });
}

// ---- flows -----------------------------------------------------------------------------

function flow(id, { url, record = false, voicemail = false }) {
  const nodes = [
    { id: "start", type: "start", next: "menu" },
    { id: "menu", type: "menu", label: "main menu",
      params: { prompt: { tts: "Welcome. Press 1 to continue." }, timeoutMs: 8000, retries: 0,
        keys: { 1: { label: "continue", next: "account" } } },
      onTimeout: "fail_bye", onInvalid: "fail_bye" },
    { id: "account", type: "collect", label: "account number",
      params: { prompt: { tts: "Please type your account number, then the hash key." },
        var: "Account", minLen: 1, maxLen: 8, terminator: "#", firstDigitTimeoutMs: 8000,
        interDigitTimeoutMs: 3000, retries: 0 },
      next: "lookup", onFail: "fail_bye" },
    { id: "lookup", type: "http", label: "account lookup",
      params: { url, method: "POST", timeoutMs: 1000, maxErrors: 1,
        request: { account: "${Account}", session: "${SystemSessionId}" },
        outputs: { Name: { path: "name", default: "" } } },
      next: voicemail ? "message" : "ok_bye", onError: "fail_bye" },
    { id: "fail_bye", type: "hangup", label: "failure",
      params: { prompt: { tts: "Sorry, we cannot help right now. Goodbye." }, endStatus: "ivrEnd" } },
    { id: "ok_bye", type: "hangup", label: "goodbye",
      params: { prompt: { tts: "Thank you. Goodbye." }, endStatus: "ok" } },
  ];
  if (voicemail)
    nodes.push({ id: "message", type: "voicemail", label: "message",
      params: { maxLenS: 20, endKey: "#", beep: false }, next: "ok_bye" });
  return JSON.stringify({ ivrId: id, name: `e2e ${id}`, type: "autoOutbound", record, nodes });
}

// The path the run took: "node=result" steps, from the database.
function pathOf(sessionId) {
  const out = d.sql(`SELECT node || '=' || result FROM session_path WHERE session_id = '${sessionId}' ORDER BY seq`);
  return out.trim().split("\n");
}

before(async () => {
  VM_PORT = await freePort();
  COLLECT_PORT = await freePort();
  const ivrPort = await listen((req, body, res) => {
    if (req.url === "/ok") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ name: "Ada", account: JSON.parse(body).account }));
    } else if (req.url === "/error") {
      res.writeHead(500, { "Content-Type": "application/json" });
      res.end('{"error":"down"}');
    } else { // "/slow": answers after the node's 1 s timeout
      setTimeout(() => { res.writeHead(200); res.end("{}"); }, 3000);
    }
  });
  const pushPort = await listen((req, body, res) => {
    pushes.push({ action: new URL(req.url, "http://x").searchParams.get("action"),
      body: JSON.parse(body) });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0,"ErrMsg":"ok"}');
  });
  d = await startCccd({
    sections: [
      "[records]", "link_ttl = 600",
      "[trunk vm]", "host = 127.0.0.1", `port = ${VM_PORT}`, "transport = udp",
      "route = 0086123", "options_interval = 0",
      "[trunk collect]", "host = 127.0.0.1", `port = ${COLLECT_PORT}`, "transport = udp",
      "route = 0086124", "options_interval = 0",
    ].join("\n") });
  const tone = path.join(d.dir, "tone-1k-3s.pcap");
  writePcap(tone, toneSamples(1000, 3), "pcma");
  const scenario = path.join(d.dir, "ivr_voicemail.xml");
  fs.writeFileSync(scenario, fs.readFileSync(path.join(ROOT, "tests/sip/ivr_voicemail.xml"), "utf8")
    .replaceAll("TONE_PCAP", tone));
  vmPhone = await sipp(scenario, { port: VM_PORT });
  collectPhone = await sipp(path.join(ROOT, "tests/sip/ivr_collect.xml"),
    { port: COLLECT_PORT });

  const files = { 5001: flow(5001, { url: `http://127.0.0.1:${ivrPort}/ok`, record: true, voicemail: true }),
    5002: flow(5002, { url: `http://127.0.0.1:${ivrPort}/error` }),
    5003: flow(5003, { url: `http://127.0.0.1:${ivrPort}/slow` }),
    5004: flow(5004, { url: `http://127.0.0.1:${ivrPort}/ok` }) };
  for (const [id, text] of Object.entries(files)) fs.writeFileSync(path.join(d.dir, `${id}.json`), text);
  const credsA = d.addTenant(A, { ivrs: [5001, 5002, 5003, 5004].map((i) => `${i}:autoOutbound:${d.dir}/${i}.json`),
    numbers: ["008675512345678"] });
  const credsB = d.addTenant(B, { ivrs: [`5002:autoOutbound:${d.dir}/5002.json`],
    numbers: ["008601012345678"] });
  d.ccc(["admin", "--config", d.confPath, "instance-set", "--sdkappid", String(B), "--record", "yes"]);
  d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(A),
    "--url", `http://127.0.0.1:${pushPort}/push`, "--events", "cdr,record,voicemail"]);
  apiA = client(credsA, d.endpoint);
  apiB = client(credsB, d.endpoint);
});

after(async () => {
  await d?.close();
  await vmPhone?.stop();
  await collectPhone?.stop();
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

async function call(api, sdkappid, ivr, callee) {
  const r = await api.CreateIVRSession({ SdkAppId: sdkappid, Callee: callee, IVRId: ivr });
  assert.equal(r.err, undefined, r.message);
  await finished(api, sdkappid, r.SessionId, 60000);
  const cdr = await until(() => cdrOf(api, sdkappid, r.SessionId), 5000, 100, "the CDR");
  return { id: r.SessionId, cdr };
}

function keysChecked(cdr) {
  assert.deepEqual(cdr.IVRKeyPressed, ["1", "24"]);
  assert.equal(cdr.IVRKeyPressedEx.length, 2);
  assert.equal(cdr.IVRKeyPressedEx[0].Key, "1");
  assert.equal(cdr.IVRKeyPressedEx[0].Label, "continue");
  assert.equal(cdr.IVRKeyPressedEx[0].NodeLabel, "main menu");
  assert.equal(cdr.IVRKeyPressedEx[1].Key, "24");
  assert.equal(cdr.IVRKeyPressedEx[1].OriginalContent, "24#");
  assert.equal(cdr.IVRKeyPressedEx[1].NodeLabel, "account number");
  assert.match(cdr.IVRKeyPressedEx[1].TTSPrompt, /account number/);
  assert.ok(cdr.IVRKeyPressedEx[1].Timestamp >= cdr.IVRKeyPressedEx[0].Timestamp);
}

test("menu, digits with #, HTTP success, a voicemail and the flow's call recording", async () => {
  const { id, cdr } = await call(apiA, A, 5001, "+8612300000001");
  assert.equal(cdr.EndStatus, 1, JSON.stringify(cdr));
  keysChecked(cdr);
  const steps = pathOf(id);
  assert.deepEqual(steps.map((s) => s.split("=")[0]),
    ["start", "menu", "account", "lookup", "message", "ok_bye"]);
  assert.match(steps[3], /^lookup=ok:200$/);
  assert.equal(steps[4], "message=recorded");

  // The voicemail: a link that downloads a mono WAV of what the caller said (the 1 kHz
  // tone, about 3 s, ended by #).
  assert.equal(cdr.VoicemailRecordURL.length, 1);
  const vmUrl = new URL(cdr.VoicemailRecordURL[0]);
  assert.equal(vmUrl.origin, `http://${d.endpoint}`);
  assert.equal(vmUrl.pathname, `/records/${A}/${id}-vm1.wav`);
  const vmFile = path.join(d.dir, "recordings", String(A), `${id}-vm1.wav`);
  assert.ok(fs.existsSync(vmFile));
  const vmGet = await get(vmUrl.href);
  assert.equal(vmGet.status, 200);
  assert.equal(vmGet.headers["content-type"], "audio/wav");
  assert.deepEqual(vmGet.body, fs.readFileSync(vmFile));
  const vm = wavParse(vmGet.body);
  assert.equal(vm.channels, 1);
  assert.equal(vm.rate, 8000);
  assert.equal(vm.bits, 16);
  assert.ok(vm.frames >= 2.5 * 8000 && vm.frames <= 6 * 8000, `voicemail of ${vm.frames / 8000} s`);
  assert.ok(powerAt(vm.ch[0], 1000) > 20 * powerAt(vm.ch[0], 440), "the caller's tone");

  // The call recording: stereo, the caller's tone on the left, cccd's prompts on the right.
  assert.match(cdr.RecordURL, new RegExp(`^http://${d.endpoint}/records/${A}/${id}\\.wav\\?Expires=\\d+&Signature=[0-9a-f]{64}$`));
  assert.equal(cdr.RecordId, id);
  const recGet = await get(cdr.RecordURL);
  assert.equal(recGet.status, 200);
  const rec = wavParse(recGet.body);
  assert.equal(rec.channels, 2);
  assert.equal(rec.rate, 8000);
  const secs = rec.frames / 8000;
  assert.ok(secs >= cdr.Duration - 2 && secs <= cdr.Duration + 2, `${secs} s for a ${cdr.Duration} s call`);
  assert.ok(powerAt(rec.ch[0], 1000) > 20 * powerAt(rec.ch[1], 1000), "the tone is on the left only");
  assert.ok(energy(rec.ch[1]) > 10000, "cccd's prompts are on the right");
  // The first second (the welcome prompt, before the caller said anything): right only.
  const first = (c) => rec.ch[c].subarray(0, 8000);
  assert.ok(energy(first(1)) > 100 * (energy(first(0)) + 1), "the prompt is on the right");

  // Tampered links are refused; a path that names no recording is not found.
  const bad = new URL(cdr.RecordURL);
  const sig = bad.searchParams.get("Signature");
  bad.searchParams.set("Signature", (sig[0] === "0" ? "1" : "0") + sig.slice(1));
  assert.equal((await get(bad.href)).status, 403);
  const later = new URL(cdr.RecordURL);
  later.searchParams.set("Expires", String(Number(later.searchParams.get("Expires")) + 3600));
  assert.equal((await get(later.href)).status, 403);
  const expired = new URL(cdr.RecordURL);
  expired.searchParams.set("Expires", "1000");
  assert.equal((await get(expired.href)).status, 403);
  const noSig = new URL(cdr.RecordURL);
  noSig.search = "";
  assert.equal((await get(noSig.href)).status, 403);
  // The same signature under another instance's directory: refused.
  const moved = new URL(cdr.RecordURL);
  moved.pathname = `/records/${B}/${id}.wav`;
  assert.equal((await get(moved.href)).status, 403);
  const traversal = new URL(cdr.RecordURL);
  traversal.pathname = `/records/${A}/..%2F..%2Fcccd.db`;
  assert.equal((await get(traversal.href)).status, 404);
  // Tenant B cannot read A's record at all.
  assert.equal(await cdrOf(apiB, B, id).catch(() => undefined), undefined);

  // The pushes: the voicemail and the recording before the CDR, all with links made when
  // sent, which download.
  const mine = await until(() => {
    const p = pushes.filter((x) => x.body.SessionId === id);
    return p.some((x) => x.action === "cdr") && p.length >= 3 ? p : null;
  }, 20000, 100, "the pushes");
  assert.deepEqual(mine.map((p) => p.action), ["voicemail", "record", "cdr"]);
  assert.equal(mine[0].body.EndpointUser, "008612300000001");
  assert.match(mine[0].body.RecordURL, /^http:\/\/.*-vm1\.wav\?Expires=\d+&Signature=/);
  assert.equal((await get(mine[0].body.RecordURL)).status, 200);
  assert.equal(mine[1].body.RecordId, id);
  assert.equal((await get(mine[1].body.RecordURL)).status, 200);
  assert.match(mine[2].body.RecordURL, /^http:\/\//);
  assert.deepEqual(mine[2].body.IVRKeyPressed, ["1", "24"]);
  assert.equal(mine[2].body.VoicemailRecordURL.length, 1);

  // A recording deleted from disk (retention, an operator): the link finds nothing.
  fs.unlinkSync(vmFile);
  assert.equal((await get(cdr.VoicemailRecordURL[0])).status, 404);
});

test("an HTTP node answering 500 takes the failure branch; nothing is recorded", async () => {
  const { id, cdr } = await call(apiA, A, 5002, "+8612400000002");
  assert.equal(cdr.EndStatus, 107, JSON.stringify(cdr));
  keysChecked(cdr);
  const steps = pathOf(id);
  assert.deepEqual(steps.map((s) => s.split("=")[0]), ["start", "menu", "account", "lookup", "fail_bye"]);
  assert.equal(steps[3], "lookup=error:status 500");
  assert.equal(cdr.RecordURL, "");
  assert.equal(cdr.RecordId, "");
  assert.deepEqual(cdr.VoicemailRecordURL, []);
  assert.ok(!fs.existsSync(path.join(d.dir, "recordings", String(A), `${id}.wav`)));
});

test("an HTTP node that times out takes the failure branch", async () => {
  const { id, cdr } = await call(apiA, A, 5003, "+8612400000003");
  assert.equal(cdr.EndStatus, 107, JSON.stringify(cdr));
  keysChecked(cdr);
  const steps = pathOf(id);
  assert.equal(steps[3].split("=")[0], "lookup");
  assert.match(steps[3], /^lookup=error:.*(time|Timeout)/i);
  assert.equal(steps[4].split("=")[0], "fail_bye");
});

test("an HTTP node that answers takes its success branch (no recording asked)", async () => {
  const { id, cdr } = await call(apiA, A, 5004, "+8612400000004");
  assert.equal(cdr.EndStatus, 1, JSON.stringify(cdr));
  keysChecked(cdr);
  assert.equal(pathOf(id)[3], "lookup=ok:200");
  assert.equal(cdr.RecordURL, "");
});

test("an instance that records its calls: RecordURL downloads its own stereo recording", async () => {
  const { id, cdr } = await call(apiB, B, 5002, "+8612400000005");
  assert.equal(cdr.EndStatus, 107);
  const u = new URL(cdr.RecordURL);
  assert.equal(u.pathname, `/records/${B}/${id}.wav`);
  const got = await get(cdr.RecordURL);
  assert.equal(got.status, 200);
  const rec = wavParse(got.body);
  assert.equal(rec.channels, 2);
  assert.ok(rec.frames >= 2 * 8000);
  assert.ok(energy(rec.ch[1]) > 10000, "the prompts are on the right");
  // B's link does not open A's directory.
  u.pathname = `/records/${A}/${id}.wav`;
  assert.equal((await get(u.href)).status, 403);
});

test("kill -9 during a recorded call: after the restart the record links a playable partial recording", async () => {
  const r = await apiA.CreateIVRSession({ SdkAppId: A, Callee: "+8612300000009", IVRId: 5001 });
  assert.equal(r.err, undefined, r.message);
  await until(async () => {
    const s = await apiA.DescribeTelSession({ SdkAppId: A, SessionId: r.SessionId });
    return s.Session && s.Session.SessionStatus === "inProgress";
  }, 20000, 100, "the call to be answered");
  // Long enough for the writer to have flushed some seconds of the call.
  const file = path.join(d.dir, "recordings", String(A), `${r.SessionId}.wav`);
  await until(() => fs.existsSync(file) && fs.statSync(file).size > 2 * 32000, 15000, 100,
    "two seconds of recording on disk");
  await d.kill();
  await d.start();
  await finished(apiA, A, r.SessionId, 20000);
  const cdr = await until(() => cdrOf(apiA, A, r.SessionId), 5000, 100, "the CDR");
  assert.equal(cdr.EndStatus, 0);
  assert.equal(cdr.HungUpSide, "system");
  const got = await get(cdr.RecordURL);
  assert.equal(got.status, 200);
  const rec = wavParse(got.body);   // the header's sizes match the file: no repair needed
  assert.equal(rec.channels, 2);
  assert.ok(rec.frames >= 2 * 8000, `${rec.frames / 8000} s kept`);
  assert.ok(energy(rec.ch[1]) > 10000, "the prompts are on the right");
});
