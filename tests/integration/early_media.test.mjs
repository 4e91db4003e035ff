// What the carrier said before the answer, through a real cccd: sipp is the carrier, answers
// the INVITE with 183 and SDP, plays early media (a pcap the test writes: an announcement
// made with espeak-ng, 6 dB quieter than the reference, through PCMA with line noise; a
// SIT; ring-back), then fails the call. The trunk registers two reference recordings
// (tests/data/earlyaudio: poweroff.wav = 204, vacant.wav = 205). The record's EndStatus is
// the recognised announcement's or the SIT's instead of the generic one, and CccdEvidence
// .EarlyMedia says what was heard, in DescribeTelCdr and in the CDR push; plain ring-back
// and an announcement nobody registered keep the generic status. With early_hangup (the
// default) cccd cancels as soon as it recognises the message; a reload that adds an
// announcement line applies to the next call (docs/early-media.md).
//
//   CCCD_BUILD=release|asan node --test tests/integration/early_media.test.mjs
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT, startCccd, client, sipp, finished, until, httpListen } from "./lib/cccd.mjs";
import { writePcap, wavSamples, toneSamples } from "./lib/rtp.mjs";

const SDK = 1400000720;
const SIP = (n) => path.join(ROOT, "tests/sip", n);
const DATA = path.join(ROOT, "tests/data/earlyaudio");
let d, phone, server;
const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));

// DescribeTelCdr's first record as sent (the SDK's models drop CccdEvidence).
function rawCdr(creds, sessionId) {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod: "TC3-HMAC-SHA256",
      httpProfile: { protocol: "http://", endpoint: d.endpoint, reqMethod: "POST", reqTimeout: 30 } });
  const now = Math.floor(Date.now() / 1000);
  return new Promise((resolve, reject) => {
    const out = { deserialize(data) { Object.assign(this, data); } };
    c.request("DescribeTelCdr", { SdkAppId: SDK, StartTimeStamp: now - 3600, EndTimeStamp: now + 60,
      PageSize: 100, PageNumber: 0, SessionIds: [sessionId] }, out, (err, resp) =>
      err || !resp.TelCdrList?.length ? reject(err || new Error("no record")) :
        resolve(resp.TelCdrList[0]));
  });
}

afterEach(async () => {
  await d?.close();
  await phone?.stop();
  server?.close();
  d = phone = server = undefined;
});

// The line: gain, then white noise 20 dB below the speech (a fixed seed).
function line(samples, gainDb = -6, snrDb = 20) {
  const g = 10 ** (gainDb / 20);
  const p = Math.sqrt(samples.reduce((s, v) => s + v * v, 0) / samples.length) * g;
  const sd = p * 10 ** (-snrDb / 20);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) + 1) / 4294967297;
  return samples.map((v) => {
    const n = sd * Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
    return Math.max(-32768, Math.min(32767, Math.round(v * g + n)));
  });
}

const silence = (ms) => new Array(ms * 8).fill(0);

// UK ring-back: 400+450 Hz, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off.
function ringback(cycles) {
  const out = [];
  const burst = () => toneSamples(400, 0.4, 3000).map((v, i) =>
    v + Math.round(3000 * Math.sin(2 * Math.PI * 450 * i / 8000)));
  for (let c = 0; c < cycles; c++) out.push(...burst(), ...silence(200), ...burst(), ...silence(2000));
  return out;
}

// A SIT (Telcordia SR-2275): the first two tones' frequency and length, then 1776.7 Hz.
function sit(f1, ms1, f2, ms2) {
  const out = [];
  for (let k = 0; k < 2; k++)
    out.push(...toneSamples(f1, ms1 / 1000, 6000), ...toneSamples(f2, ms2 / 1000, 6000),
      ...toneSamples(1776.7, 0.38, 6000), ...silence(1000));
  return out;
}

// The carrier (sipp, `calls` calls) plays `audio` (PCMA) and then fails with `final`, or
// (cancel) waits for cccd's CANCEL; cccd's trunk to it registers the two references
// (refs: false for none). Returns what place() needs.
async function setup(audio, { final = 480, reason = "Temporarily Unavailable", cancel = false,
  hangup = false, refs = true, calls = 1 } = {}) {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "cccd-early-"));
  writePcap(path.join(dir, "early.pcap"), audio, "pcma");
  const scenario = path.join(dir, "carrier.xml");
  fs.writeFileSync(scenario, fs.readFileSync(SIP(cancel ? "uas_early_cancel.xml" :
    "uas_early_fail.xml"), "utf8").replace("480 Temporarily Unavailable", `${final} ${reason}`));
  phone = await sipp(scenario, { cwd: dir, args: ["-m", String(calls)] });
  const pushes = [];
  const rx = await httpListen((req, body, res) => {
    pushes.push(JSON.parse(body));
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0,"ErrMsg":"ok"}');
  });
  server = rx.server;
  d = await startCccd({ sections: ["[trunk peer]", "host = 127.0.0.1", `port = ${phone.port}`,
    "transport = udp", "route = *", "options_interval = 0",
    `early_hangup = ${hangup ? "yes" : "no"}`,
    ...(refs ? [`announcement = 204 ${DATA}/poweroff.wav`,
      `announcement = numberNotExist ${DATA}/vacant.wav`] : [])].join("\n") });
  const flow = { ivrId: 1, name: "early", type: "autoOutbound", nodes: [
    { id: "start", type: "start", next: "bye" },
    { id: "bye", type: "hangup", params: { endStatus: "ok" } },
  ] };
  fs.writeFileSync(path.join(d.dir, "1.json"), JSON.stringify(flow));
  const creds = d.addTenant(SDK, { ivrs: [`1:autoOutbound:${d.dir}/1.json`],
    numbers: ["008675512345678"] });
  d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(SDK),
    "--url", `http://127.0.0.1:${rx.port}/push`, "--events", "cdr"]);
  return { dir, creds, api: client(creds, d.endpoint), pushes };
}

// One call through the carrier: its CDR, its push and the session's log lines.
async function place({ creds, api, pushes }) {
  const r = await api.CreateIVRSession({ SdkAppId: SDK, Callee: "+8613800000001", IVRId: 1 });
  assert.equal(r.err, undefined, r.message);
  await finished(api, SDK, r.SessionId, 40000);
  const cdr = await until(() => rawCdr(creds, r.SessionId).catch(() => null), 10000, 100,
    "the CDR");
  const push = await until(() => pushes.find((p) => p.SessionId === r.SessionId), 15000, 100,
    "the CDR push");
  return { cdr, push, lines: d.log.split("\n").filter((l) => l.includes(r.SessionId)) };
}

async function call(audio, opts = {}) {
  const env = await setup(audio, opts);
  const got = await place(env);
  const code = await phone.wait(20000);
  assert.equal(code, 0, `sipp: ${phone.log.slice(-600)}`);
  fs.rmSync(env.dir, { recursive: true, force: true });
  return got;
}

function expect({ cdr, push, lines }, status, str, early) {
  const why = `${JSON.stringify(cdr)}\n${lines.join("\n")}`;
  for (const l of lines.filter((x) => x.includes("early media:")))
    console.log(l.replace(/^.*call: \w+: /, "heard: "));
  assert.equal(cdr.EndStatus, status, why);
  assert.equal(cdr.EndStatusString, str, why);
  assert.deepEqual(cdr.CccdEvidence.EarlyMedia, early, why);
  assert.equal(push.EndStatus, status);
  assert.deepEqual(push.CccdEvidence.EarlyMedia, early);
}

const speech = (name) => wavSamples(path.join(DATA, name));

test("a registered announcement then 480: powerOff (204), not notInService", async () => {
  const got = await call([...ringback(1), ...line(speech("poweroff.wav"))]);
  expect(got, 204, "powerOff", { Heard: "announcement", Announcement: "poweroff.wav",
    EndStatus: 204 });
});

test("another registered announcement then 480: numberNotExist (205)", async () => {
  const got = await call([...silence(500), ...line(speech("vacant.wav"), 3, 25)]);
  expect(got, 205, "numberNotExist", { Heard: "announcement", Announcement: "vacant.wav",
    EndStatus: 205 });
});

test("a SIT (reorder) then 480: operatorError (208)", async () => {
  const got = await call(sit(913.8, 274, 1428.5, 380));
  expect(got, 208, "operatorError", { Heard: "sit", Sit: "reorder", EndStatus: 208 });
});

test("ring-back then 486: busy (206) as without listening", async () => {
  const got = await call(ringback(2), { final: 486, reason: "Busy Here" });
  expect(got, 206, "busy", { Heard: "ringback" });
});

test("an announcement nobody registered then 480: the generic notInService (210)", async () => {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "cccd-flite-"));
  execFileSync("flite", ["-t", "Your call cannot be completed as dialled. Please hang up " +
    "and try again.", "-o", path.join(dir, "x.wav")]);
  execFileSync("sox", [path.join(dir, "x.wav"), "-r", "8000", "-c", "1", "-b", "16",
    path.join(dir, "y.wav")]);
  const audio = wavSamples(path.join(dir, "y.wav"));
  fs.rmSync(dir, { recursive: true, force: true });
  const got = await call(line(audio, 0, 30));
  expect(got, 210, "notInService", { Heard: "speech" });
});

test("early_hangup: cccd cancels once it recognises the announcement, with its status", async () => {
  const got = await call([...line(speech("poweroff.wav")), ...line(speech("poweroff.wav"))],
    { cancel: true, hangup: true });
  expect(got, 204, "powerOff", { Heard: "announcement", Announcement: "poweroff.wav",
    EndStatus: 204 });
  assert.ok(got.lines.some((l) => l.includes("cancelling")), got.lines.join("\n"));
});

test("a reload that adds an announcement line: the next call recognises it", async () => {
  const env = await setup([...silence(300), ...line(speech("poweroff.wav"))],
    { refs: false, calls: 2 });
  expect(await place(env), 210, "notInService", { Heard: "speech" });
  const conf = fs.readFileSync(d.confPath, "utf8");
  const from = d.log.length;
  fs.writeFileSync(d.confPath, conf.replace("early_hangup = no",
    `early_hangup = no\nannouncement = powerOff ${DATA}/poweroff.wav`));
  d.proc.kill("SIGHUP");
  await until(() => /reload done/.test(d.log.slice(from)), 10000, 50, "the reload");
  expect(await place(env), 204, "powerOff", { Heard: "announcement",
    Announcement: "poweroff.wav", EndStatus: 204 });
  assert.equal(await phone.wait(20000), 0, phone.log.slice(-600));
  fs.rmSync(env.dir, { recursive: true, force: true });
});
