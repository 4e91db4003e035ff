// Calls in each codec beside G.711, end to end: cccd offers its trunk's codec list in order,
// a sipp callee answers with G.722 or Opus, and the callee's RTP (this test's own socket)
// checks what cccd sends — the prompt, decoded by cccd's coders through
// build/<variant>/itests/codec_pipe, correlated with the WAV, at the codec's RTP clock —
// while it talks (a 1 kHz tone in the codec) and presses a key (RFC 4733 at the codec's
// clock: 8000 for G.722, 48000 for Opus; in-band when the callee has no event at the
// codec's clock). The key is the CDR's, the tone is the left channel of the call's
// recording. Then a transfer bridges a G.722 customer and a PCMA target, each
// hearing the other's tone through linear audio; and an inbound offer is answered in the
// first codec of cccd's list it has, whatever the offer's order.
// Ports: the harness hands out the sipps' SIP and media ports, the callees' RTP sockets and
// cccd's RTP range (tests/README.md).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { ROOT, VARIANT, startCccd, client, finished, cdrOf, until, sleep, freePort, portRange, demoRules } from "./lib/cccd.mjs";
import { alawEncode, alawDecode, toneSamples, dtmfSamples, bestCorrelation, wavSamples } from "./lib/rtp.mjs";

const SDKAPPID = 1400013722;
const SIP = path.join(ROOT, "tests/sip");
const PIPE = path.join(ROOT, "build", VARIANT, "itests", "codec_pipe");
const PORTS = { callee: 0, target: 0 };
const MEDIA = { callee: 0, target: 0 };
const RTP = { callee: 0, target: 0 };
let d, api, prompts, chirp;
const procs = [];

// How each codec goes on the wire: its payload type in the callee's answer, its rtpmap,
// its RTP clock in 8 kHz units, and the telephone-event the callee answers with.
const CODECS = {
  g722: { pt: 9, rtpmap: "G722/8000", mul: 1, tev: 101, tevclock: 8000 },
  opus: { pt: 96, rtpmap: "opus/48000/2", mul: 6, tev: 97, tevclock: 48000 },
};

// cccd's own coders as a filter (codec_pipe.c): samples → payloads, payloads → samples.
function encode(codec, samples) {
  const pcm = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => pcm.writeInt16LE(s, 2 * i));
  const out = execFileSync(PIPE, ["encode", codec], { input: pcm, maxBuffer: 1 << 26 });
  const frames = [];
  for (let off = 0; off + 2 <= out.length;) {
    const n = out.readUInt16BE(off);
    frames.push(out.subarray(off + 2, off + 2 + n));
    off += 2 + n;
  }
  return frames;
}

function decode(codec, payloads) {
  const input = Buffer.concat(payloads.flatMap((p) => {
    const h = Buffer.alloc(2);
    h.writeUInt16BE(p.length, 0);
    return [h, p];
  }));
  const out = execFileSync(PIPE, ["decode", codec], { input, maxBuffer: 1 << 26 });
  return Array.from({ length: out.length / 2 }, (_, i) => out.readInt16LE(2 * i));
}

// The share of the signal's power at hz (Goertzel).
function toneShare(x, hz) {
  const c = 2 * Math.cos(2 * Math.PI * hz / 8000);
  let s1 = 0, s2 = 0, total = 0;
  for (const v of x) {
    const s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += v * v;
  }
  return total ? 2 * (s1 * s1 + s2 * s2 - c * s1 * s2) / (x.length * total) : 0;
}

// One callee's RTP on its own socket: learns cccd's address from the first packet, talks
// (pre-encoded frames, one per 20 ms, timestamps at the codec's clock) and sends RFC 4733
// keys, and keeps what it receives in arrival order.
function party(port, { pt, mul, tev }, frames) {
  const sock = dgram.createSocket("udp4");
  const p = { peer: null, received: [], seq: 1, ts: 1000, ssrc: port * 7, timer: null };
  sock.on("message", (msg, rinfo) => {
    if (!p.peer) p.peer = rinfo;
    if (msg.length >= 12) {
      p.received.push({ pt: msg[1] & 0x7f, seq: msg.readUInt16BE(2), ts: msg.readUInt32BE(4),
        payload: Buffer.from(msg.subarray(12)) });
    }
  });
  p.send = (type, payload, marker = false, ts = p.ts) => {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = (marker ? 0x80 : 0) | type;
    h.writeUInt16BE(p.seq++ & 0xffff, 2);
    h.writeUInt32BE(ts >>> 0, 4);
    h.writeUInt32BE(p.ssrc, 8);
    sock.send(Buffer.concat([h, payload]), p.peer.port, p.peer.address);
  };
  p.talk = () => {
    p.n = 0;
    p.timer = setInterval(() => {
      if (!p.peer || p.keying || p.n >= frames.length) return;
      p.send(pt, frames[p.n++]);
      p.ts += 160 * mul;
    }, 20);
  };
  // From now on these frames instead (an in-band key, say).
  p.say = (next) => {
    frames = next;
    p.n = 0;
  };
  // RFC 4733: the event's packets share its start timestamp, durations at the codec's clock.
  p.key = async (event) => {
    const ts = p.ts;
    p.keying = true;
    for (let n = 1; n <= 6; n++) {
      const end = n >= 4;
      const pl = Buffer.from([event, (end ? 0x80 : 0) | 10, 0, 0]);
      pl.writeUInt16BE(Math.min(n, 4) * 160 * mul, 2);
      p.send(tev, pl, n === 1, ts);
      await sleep(20);
    }
    p.ts += 4 * 160 * mul;
    p.keying = false;
  };
  p.audio = (type) => p.received.filter((r) => r.pt === type);
  p.close = () => { clearInterval(p.timer); sock.close(); };
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(port, "127.0.0.1", () => { sock.off("error", reject); resolve(p); });
  });
}

async function sippAt(scenario, port, mediaPort, keys = {}) {
  const args = ["-sf", path.join(SIP, scenario), "-i", "127.0.0.1", "-p", String(port),
    "-mi", "127.0.0.1", "-mp", String(mediaPort), "-nostdin", "-m", "1",
    "-trace_err", "-error_file", `/tmp/sipp-codecs-${process.pid}-${port}.err`,
    "-trace_msg", "-message_file", `/tmp/sipp-codecs-${process.pid}-${port}.msg`];
  for (const [k, v] of Object.entries(keys)) args.push("-key", k, String(v));
  const proc = spawn("sipp", args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (b) => { log += b; });
  proc.stderr.on("data", (b) => { log += b; });
  procs.push(proc);
  const exited = new Promise((r) => proc.once("exit", (code) => r(code)));
  await sleep(300);
  return { get log() { return log; }, wait: (ms) => Promise.race([exited, sleep(ms).then(() => null)]),
    // The m= line of the INVITE's offer, from sipp's message log.
    offer: () => (fs.readFileSync(`/tmp/sipp-codecs-${process.pid}-${port}.msg`, "utf8")
      .match(/m=audio \d+ RTP\/AVP [^\r\n]*/) || [""])[0] };
}

// The left channel (what the callee sent) of a stereo 16-bit WAV.
function wavLeft(file) {
  const all = wavSamples(file);
  return all.filter((_, i) => i % 2 === 0);
}

before(async () => {
  const media = await portRange(30);
  PORTS.callee = await freePort();
  PORTS.target = await freePort();
  MEDIA.callee = media.min;
  MEDIA.target = media.min + 10;
  RTP.callee = media.min + 20;
  RTP.target = media.min + 22;
  fs.mkdirSync(path.join(ROOT, "build"), { recursive: true });
  prompts = fs.mkdtempSync(path.join(ROOT, "build", "test-prompts-"));
  execFileSync("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", path.join(prompts, "chirp.wav"),
    "synth", "1.2", "sine", "200-3000", "vol", "0.5"]);
  chirp = wavSamples(path.join(prompts, "chirp.wav"));
  d = await startCccd({
    mediaLines: ["codecs = g722, opus, pcmu, pcma"],
    sections: [
      "[trunk target]", "host = 127.0.0.1", `port = ${PORTS.target}`, "route = 7001",
      "options_interval = 0",
      "[trunk callees]", "host = 127.0.0.1", `port = ${PORTS.callee}`, "route = *",
      "options_interval = 0", "codecs = opus, g722, pcmu, pcma",
    ].join("\n"),
  });
  const file = `${path.relative(ROOT, prompts)}/chirp.wav`;
  const keyed = JSON.stringify({
    ivrId: 5101, name: "codec call", type: "autoOutbound", start: "s", record: true,
    nodes: [{ id: "s", type: "start", next: "p" },
      { id: "p", type: "prompt", params: { file, plays: 1, interruptible: false }, next: "m" },
      { id: "m", type: "menu", label: "menu",
        params: { prompt: { tts: "Press five." }, timeoutMs: 8000, retries: 0,
          keys: { 5: { label: "five", next: "bye" } } }, onTimeout: "bye", onInvalid: "bye" },
      { id: "bye", type: "hangup" }] });
  const xfer = JSON.stringify({
    ivrId: 5102, name: "codec transfer", type: "autoOutbound", start: "s",
    nodes: [{ id: "s", type: "start", next: "m" },
      { id: "m", type: "menu", label: "menu",
        params: { prompt: { tts: "Press one." }, timeoutMs: 8000, retries: 0,
          keys: { 1: { label: "agent", next: "x" } } }, onTimeout: "bye", onInvalid: "bye" },
      { id: "x", type: "transferExternal", params: { number: "7001", ringTimeoutS: 10 },
        onFail: "bye" },
      { id: "bye", type: "hangup" }] });
  const inbound = JSON.stringify({
    ivrId: 5103, name: "codec line", type: "inbound", start: "s",
    nodes: [{ id: "s", type: "start", next: "p" },
      { id: "p", type: "prompt", params: { file, plays: 5 }, next: "bye" },
      { id: "bye", type: "hangup" }] });
  fs.writeFileSync(path.join(d.dir, "5103.json"), inbound);
  fs.writeFileSync(path.join(d.dir, "5101.json"), keyed);
  fs.writeFileSync(path.join(d.dir, "5102.json"), xfer);
  api = client(d.addTenant(SDKAPPID, { ivrs: [`5101:autoOutbound:${d.dir}/5101.json`,
    `5102:autoOutbound:${d.dir}/5102.json`, `5103:inbound:${d.dir}/5103.json`],
  numbers: ["008675512345678"],
  rules: demoRules(d.dir, { destinations: { allow: ["7001"] } }) }), d.endpoint);
  d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(SDKAPPID),
    "--number", "008675587650000", "--outbound", "no", "--inbound-ivr", "5103"]);
});

after(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  await d?.close();
  if (prompts) fs.rmSync(prompts, { recursive: true, force: true });
  for (const f of fs.readdirSync("/tmp")) {
    if (f.startsWith(`sipp-codecs-${process.pid}-`)) fs.rmSync(path.join("/tmp", f), { force: true });
  }
});

for (const [name, c] of Object.entries(CODECS)) {
  test(`a call in ${name}: the prompt, a key at ${c.tevclock} Hz, the callee recorded`, async () => {
    const tone = encode(name, toneSamples(1000, 6));
    const a = await party(RTP.callee, c, tone);
    try {
      const callee = await sippAt("uas_codec.xml", PORTS.callee, MEDIA.callee, { rtp_port: RTP.callee,
        pt: c.pt, rtpmap: c.rtpmap, tev: c.tev, tevclock: c.tevclock });
      const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "+8613700000000", IVRId: 5101 });
      assert.equal(r.err, undefined, r.message);
      await until(() => a.peer, 15000, 50, "cccd's RTP");
      a.talk();
      // The chirp (1.2 s) then the menu's prompt; the key goes in during the menu.
      await until(() => a.audio(c.pt).length >= 80, 10000, 50, "the prompt's packets");
      await a.key(5);
      const s = await finished(api, SDKAPPID, r.SessionId, 30000);
      assert.ok(s);
      assert.equal(await callee.wait(10000), 0, `sipp:\n${callee.log.slice(-2000)}`);
      // The trunk's list, in its order, an event per clock rate.
      assert.match(callee.offer(), /RTP\/AVP 111 9 0 8 101 102$/);
      const cdr = await until(() => cdrOf(api, SDKAPPID, r.SessionId), 5000, 100, "the CDR");
      assert.deepEqual(cdr.IVRKeyPressed, ["5"]);

      const got = a.audio(c.pt);
      assert.ok(got.every((p) => p.pt === c.pt));
      // Timestamps count the codec's clock: one 20 ms frame a packet.
      const steps = got.slice(1).map((p, i) => (p.ts - got[i].ts) >>> 0);
      const right = steps.filter((st) => st === 160 * c.mul).length;
      assert.ok(right >= steps.length - 3, `${right}/${steps.length} steps of ${160 * c.mul}`);
      const heard = decode(name, got.map((p) => p.payload));
      const { score } = bestCorrelation(heard, chirp, chirp.length);
      assert.ok(score > (name === "g722" ? 0.97 : 0.8), `${name} correlation ${score.toFixed(3)}`);

      // The call's recording: left is the callee's tone, decoded by cccd.
      const wav = path.join(d.dir, "recordings", String(SDKAPPID), `${r.SessionId}.wav`);
      await until(() => fs.existsSync(wav), 5000, 100, "the recording");
      // The best half second of it (the callee paused for its key; the first packets
      // arrive when they arrive): the 1 kHz tone.
      const left = wavLeft(wav);
      let best = 0;
      for (let at = 0; at + 4000 <= left.length; at += 1000) best = Math.max(best, toneShare(left.slice(at, at + 4000), 1000));
      assert.ok(best > 0.8, `1 kHz share ${best.toFixed(2)}`);
    } finally {
      a.close();
    }
  });
}

test("g722 without a telephone-event at its clock: the key in-band, decoded from G.722", async () => {
  const a = await party(RTP.callee, CODECS.g722, encode("g722", toneSamples(1000, 6)));
  try {
    // The callee's events are at 48 kHz only: none goes with G.722's 8 kHz clock.
    const callee = await sippAt("uas_codec.xml", PORTS.callee, MEDIA.callee, { rtp_port: RTP.callee,
      pt: 9, rtpmap: "G722/8000", tev: 101, tevclock: 48000 });
    const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "+8613700000002", IVRId: 5101 });
    assert.equal(r.err, undefined, r.message);
    await until(() => a.peer, 15000, 50, "cccd's RTP");
    a.talk();
    await until(() => a.audio(9).length >= 80, 10000, 50, "the prompt's packets");
    a.say(encode("g722", dtmfSamples(["5"], { leadMs: 100, toneMs: 150, gapMs: 3000 })));
    await finished(api, SDKAPPID, r.SessionId, 30000);
    assert.equal(await callee.wait(10000), 0, `sipp:\n${callee.log.slice(-2000)}`);
    const cdr = await until(() => cdrOf(api, SDKAPPID, r.SessionId), 5000, 100, "the CDR");
    assert.deepEqual(cdr.IVRKeyPressed, ["5"]);
  } finally {
    a.close();
  }
});

test("inbound: cccd answers with the first codec of its list the offer has, alone", async () => {
  // The offer lists PCMU, PCMA, Opus, G.722; [media] codecs puts G.722 first. The sipp
  // caller checks the answer (uac_inbound_codecs.xml). The inbound table is re-read every 5 s.
  const r = await until(() => {
    const x = spawnSync("sipp", ["-sf", path.join(SIP, "uac_inbound_codecs.xml"), "-s", "+8675587650000",
      "-i", "127.0.0.1", "-p", "0", "-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin",
      `127.0.0.1:${d.sipPort}`], { encoding: "utf8", timeout: 30000 });
    return x.status === 0 ? x : null;
  }, 15000, 1000, "the G.722 answer");
  assert.equal(r.status, 0);
});

test("a transfer bridges a G.722 leg and a PCMA leg through linear audio", async () => {
  const a = await party(RTP.callee, CODECS.g722, encode("g722", toneSamples(1000, 12)));
  // 600 Hz is 12 whole cycles in 20 ms: one frame repeated is a steady tone.
  const b = await party(RTP.target, { pt: 8, mul: 1, tev: 101 },
    new Array(600).fill(Buffer.from(toneSamples(600, 0.02).map(alawEncode))));
  try {
    await sippAt("uas_codec.xml", PORTS.callee, MEDIA.callee, { rtp_port: RTP.callee, pt: 9, rtpmap: "G722/8000", tev: 101, tevclock: 8000 });
    await sippAt("xfer_agent.xml", PORTS.target, MEDIA.target, { rtp_port: RTP.target });
    const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "+8613700000001", IVRId: 5102 });
    assert.equal(r.err, undefined, r.message);
    await until(() => a.peer, 15000, 50, "the menu's RTP");
    await sleep(300);
    await a.key(1);
    await until(() => b.peer, 20000, 50, "the transfer leg's RTP");
    a.talk();
    b.talk();
    await sleep(2500);
    // Each hears the other's tone: the last second each received.
    const atB = b.audio(8).slice(-50).flatMap((p) => Array.from(p.payload, alawDecode));
    const atA = decode("g722", a.audio(9).map((p) => p.payload)).slice(-8000);
    assert.ok(toneShare(atB, 1000) > 0.7, `the PCMA leg hears 1 kHz: ${toneShare(atB, 1000).toFixed(2)}`);
    assert.ok(toneShare(atA, 600) > 0.7, `the G.722 leg hears 600 Hz: ${toneShare(atA, 600).toFixed(2)}`);
    await finished(api, SDKAPPID, r.SessionId, 30000);
  } finally {
    a.close();
    b.close();
  }
});
