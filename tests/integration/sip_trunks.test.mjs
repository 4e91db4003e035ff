// Trunk features and media over real calls, through a real cccd: registration with digest
// authentication and its refresh, a refused registration marking the trunk down (calls to
// it are refused at once), an outbound proxy, cccd's RTP decoding to the prompt it plays,
// and a re-INVITE that moves the media to a new port and from PCMU to PCMA.
// Ports: sipp 16450-16459 (SIP), 16570-16597 (sipp media: each binds mp and mp+2), test RTP
// sockets 16582-16586, cccd RTP 200 ports the harness reserves.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, until } from "./lib/cccd.mjs";
import { rtpSink, audioOf, bestCorrelation, wavSamples } from "./lib/rtp.mjs";

const SDKAPPID = 1400016450;
const SIP = (n) => path.join(ROOT, "tests/sip", n);
const TRUNKS = `
[trunk reg]
host = 127.0.0.1
port = 16450
username = alice
password = s3cret
realm = test.cccd
register = yes
register_expires = 60
options_interval = 0
route = 0086139100
[trunk regbad]
host = 127.0.0.1
port = 16451
username = bob
password = nope
register = yes
options_interval = 0
route = 0086139200
[trunk prox]
host = 127.0.0.1
port = 16452
proxy = sip:127.0.0.1:16453
options_interval = 0
route = 0086139300
[trunk sink]
host = 127.0.0.1
port = 16454
options_interval = 0
route = 0086139400
[trunk move]
host = 127.0.0.1
port = 16455
options_interval = 0
route = 0086139500
`;

let d, api, registrar, refuser, prompt, prompts;
const stops = [];

before(async () => {
  // The registrars run before cccd starts: it registers at once.
  registrar = await sipp(SIP("uas_register.xml"), { port: 16450, mp: 16570,
    args: ["-m", "1", "-timeout", "20s", "-timeout_error"] });
  refuser = await sipp(SIP("uas_register_refused.xml"), { port: 16451, mp: 16594,
    args: ["-m", "1", "-timeout", "20s", "-timeout_error"] });
  stops.push(registrar, refuser);
  // A chirp: no two stretches of it look alike, so a correlation finds its one place.
  // Under the working directory of cccd and ccc admin (ROOT), where relative prompt files
  // resolve by default.
  fs.mkdirSync(path.join(ROOT, "build"), { recursive: true });
  prompts = fs.mkdtempSync(path.join(ROOT, "build", "test-prompts-"));
  execFileSync("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", path.join(prompts, "chirp.wav"),
    "synth", "1.2", "sine", "200-3000", "vol", "0.5"]);
  prompt = wavSamples(path.join(prompts, "chirp.wav"));
  d = await startCccd({ sections: TRUNKS, rtpCount: 200 });
  const flow = (ivrId, plays) => ({ ivrId, name: `chirp ${plays}`, type: "autoOutbound", start: "s",
    nodes: [{ id: "s", type: "start", next: "p" },
      { id: "p", type: "prompt", params: { file: `${path.relative(ROOT, prompts)}/chirp.wav`, plays, interruptible: false }, next: "h" },
      { id: "h", type: "hangup" }] });
  fs.writeFileSync(path.join(d.dir, "20.json"), JSON.stringify(flow(20, 1)));
  fs.writeFileSync(path.join(d.dir, "21.json"), JSON.stringify(flow(21, 10)));
  api = client(d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", `20:autoOutbound:${d.dir}/20.json`,
    "--ivr", `21:autoOutbound:${d.dir}/21.json`, "--number", "008675512345678", "--rules", "demo"]),
  d.endpoint);
});

after(async () => {
  for (const p of stops) await p.stop();
  await d?.close();
  if (prompts) fs.rmSync(prompts, { recursive: true, force: true });
});

test("registration: 401 answered with the trunk's digest, refreshed before it expires", async () => {
  const code = await registrar.wait(15000);
  assert.equal(code, 0, `registrar scenario failed:\n${registrar.log.slice(-2000)}\n${d.log.slice(-2000)}`);
  await d.waitLog(/trunk reg: registered/);
  assert.doesNotMatch(d.log, /trunk reg is down/);
});

test("a refused registration marks the trunk down: its calls fail at once", async () => {
  await until(() => /trunk regbad is down: registration refused: 403/.test(d.log), 10000, 100,
    `the trunk to go down:\n${d.log.slice(-3000)}\n${refuser.log.slice(-1500)}`);
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613920000000", IVRId: 20 });
  assert.equal(r.err, "FailedOperation.CallOutFailed", JSON.stringify(r));
  const now = Math.floor(Date.now() / 1000);
  const l = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 600,
    EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0, Phones: ["008613920000000"] });
  assert.equal(l.TotalCount, 0, "no session was made");
});

test("outbound proxy: the INVITE goes to the proxy with the trunk's Request-URI", async () => {
  const proxy = await sipp(SIP("uas_proxy.xml"), { port: 16453, mp: 16574,
    args: ["-m", "1", "-timeout", "20s", "-timeout_error"] });
  stops.push(proxy);
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613930000000", IVRId: 20 });
  assert.equal(r.err, undefined, r.message);
  await finished(api, SDKAPPID, r.SessionId);
  const cdr = await cdrOf(api, SDKAPPID, r.SessionId);
  assert.equal(await proxy.wait(10000), 0, `proxy scenario failed:\n${proxy.log.slice(-2000)}`);
  assert.equal(cdr.EndStatus, 206, "the proxy's 486 is the outcome");
});

test("cccd's RTP decodes to the prompt it plays", async () => {
  const sink = await rtpSink(16582);
  const peer = await sipp(SIP("uas_answer_sink.xml"), { port: 16454, mp: 16590,
    args: ["-m", "1", "-timeout", "20s", "-timeout_error", "-key", "rtp1", "16582"] });
  stops.push(peer);
  try {
    const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613940000000", IVRId: 20 });
    assert.equal(r.err, undefined, r.message);
    await finished(api, SDKAPPID, r.SessionId);
    assert.equal(await peer.wait(10000), 0, peer.log.slice(-2000));
    const pcmu = sink.packets.filter((p) => p.pt === 0);
    assert.ok(pcmu.length >= prompt.length / 160 - 2, `${pcmu.length} PCMU packets for the prompt`);
    assert.equal(new Set(pcmu.map((p) => p.ssrc)).size, 1);
    const heard = audioOf(sink.packets, 0);
    // The whole prompt, 8 kHz sample for sample (µ-law rounding only).
    const { score } = bestCorrelation(heard, prompt, prompt.length);
    assert.ok(score > 0.98, `correlation ${score.toFixed(3)}`);
  } finally {
    await sink.close();
  }
});

test("re-INVITE to a new port and PCMA: the RTP moves there, in PCMA", async () => {
  const s1 = await rtpSink(16584), s2 = await rtpSink(16586);
  const peer = await sipp(SIP("uas_reinvite_move.xml"), { port: 16455, mp: 16578,
    args: ["-m", "1", "-timeout", "20s", "-timeout_error", "-key", "rtp1", "16584", "-key", "rtp2", "16586"] });
  stops.push(peer);
  try {
    const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613950000000", IVRId: 21 });
    assert.equal(r.err, undefined, r.message);
    await finished(api, SDKAPPID, r.SessionId);
    assert.equal(await peer.wait(10000), 0, `sipp: ${peer.log.slice(-2000)}`);
    const cdr = await cdrOf(api, SDKAPPID, r.SessionId);
    assert.equal(cdr.EndStatus, 1);
    assert.equal(cdr.HungUpSide, "user");

    assert.ok(s1.packets.length > 10, "PCMU to the first port before the re-INVITE");
    assert.ok(s1.packets.every((p) => p.pt === 0), "only PCMU on the first port");
    assert.ok(s2.packets.length > 10, "RTP on the new port after the re-INVITE");
    assert.ok(s2.packets.every((p) => p.pt === 8), "only PCMA on the new port");
    const moved = s2.packets[0].at;
    const late = s1.packets.filter((p) => p.at > moved + 20).length;
    assert.ok(late === 0, `${late} packets still went to the old port`);
    // One stream: same SSRC, the sequence carries on across the move.
    assert.equal(s2.packets[0].ssrc, s1.packets[0].ssrc);
    const lastSeq = s1.packets[s1.packets.length - 1].seq;
    assert.equal(s2.packets[0].seq, (lastSeq + 1) & 0xffff);
    // And the PCMA audio is still the prompt.
    const { score } = bestCorrelation(audioOf(s2.packets, 8), prompt, 4000);
    assert.ok(score > 0.95, `PCMA correlation ${score.toFixed(3)}`);
  } finally {
    await s1.close();
    await s2.close();
  }
});
