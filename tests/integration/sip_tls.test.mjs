// SIP over TLS and SRTP against a real peer: cccd calls baresip over TLS with SDES-keyed
// SRTP (baresip's srtp-mand: it refuses plain RTP), and the call's recording holds
// baresip's 440 Hz tone — which reached cccd only if cccd could decrypt it. Trunks whose
// certificate does not verify (another CA, another name) are refused with a log line and
// the call fails over; a trunk with tls_verify = false connects anyway. Inbound: baresip
// calls cccd's TLS listener with SRTP (driven through its ctrl_tcp socket) and its tone is
// in the recording; the listener answers OPTIONS; a plain offer from a trunk that requires
// SRTP gets 488; a plain answer from one ends the call.
//
// baresip takes its local address from the default route, which a network namespace with
// only lo lacks: `net_interface 127.0.0.1` gives it one (without it the test_baresip_interop
// call of tests/sip/run.sh fails in such a namespace).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import net from "node:net";
import tls from "node:tls";
import { ROOT, startCccd, client, finished, cdrOf, until, sleep, freePort, portRange, sipp } from "./lib/cccd.mjs";
import { wavSamples } from "./lib/rtp.mjs";
import { makeCa, makeCert } from "./lib/certs.mjs";

const SDKAPPID = 1400000000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-siptls-"));
const ca = makeCa(path.join(tmp, "ca"));
const other = makeCa(path.join(tmp, "other"), "other CA");
const cccdCert = makeCert(ca, "cccd", ["IP:127.0.0.1"]);
const bareCert = makeCert(ca, "baresip", ["IP:127.0.0.1"]);
const strangerCert = makeCert(other, "stranger", ["IP:127.0.0.1"]);
const misnamedCert = makeCert(ca, "misnamed", ["DNS:carrier.example"]);
let d, api, bare, bareLog = "", rtp, tlsPort, prompts, ctrlPort;
const servers = [];

// A TLS server that is no SIP peer: it records what it receives (cccd's INVITE, when its
// handshake succeeds) and answers nothing.
function tlsSink(cert) {
  const s = { got: "", handshakes: 0 };
  s.server = tls.createServer({ cert: fs.readFileSync(cert.cert), key: fs.readFileSync(cert.key) },
    (sock) => { s.handshakes++; sock.on("data", (b) => { s.got += b; }); sock.on("error", () => {}); });
  s.server.on("tlsClientError", () => {});
  servers.push(s.server);
  return new Promise((r) => s.server.listen(0, "127.0.0.1", () => { s.port = s.server.address().port; r(s); }));
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

let stranger, misnamed, unverified, plainPeer, creds;
const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));

// A record as sent (the SDK's models drop cccd's additions such as CccdEvidence).
function rawCdr(sessionId) {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod: "TC3-HMAC-SHA256",
      httpProfile: { protocol: "http://", endpoint: d.endpoint, reqMethod: "POST", reqTimeout: 30 } });
  const now = Math.floor(Date.now() / 1000);
  return new Promise((resolve) => {
    const out = { deserialize(data) { Object.assign(this, data); } };
    c.request("DescribeTelCdr", { SdkAppId: SDKAPPID, StartTimeStamp: now - 3600, EndTimeStamp: now + 60,
      PageSize: 100, PageNumber: 0, SessionIds: [sessionId] }, out,
    (err, resp) => resolve(err ? null : resp.TelCdrList[0]));
  });
}

before(async () => {
  stranger = await tlsSink(strangerCert);
  misnamed = await tlsSink(misnamedCert);
  unverified = await tlsSink(strangerCert);
  // baresip: UDP/TCP on bport, TLS on bport + 1; SRTP mandatory on its account
  rtp = await portRange(10);
  let bport;
  do bport = await freePort(); while (bport >= 65535);
  ctrlPort = await freePort();
  const home = path.join(tmp, "home");
  const conf = path.join(home, ".baresip");
  fs.mkdirSync(conf, { recursive: true });
  // the tone baresip sends (its sine source runs at 48 kHz only; G.711 needs 8 kHz)
  execFileSync("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", path.join(home, "tone.wav"),
    "synth", "20", "sine", "440"]);
  fs.writeFileSync(path.join(conf, "config"), [
    `sip_listen 127.0.0.1:${bport}`, `sip_certificate ${bareCert.pem}`, `sip_cafile ${ca.cert}`,
    "net_interface 127.0.0.1", "audio_player aubridge,nil", "audio_alert aubridge,nil",
    `audio_source aufile,${path.join(home, "tone.wav")}`, "module_path /usr/lib/baresip/modules",
    "module g711.so", "module aufile.so", "module aubridge.so", "module srtp.so",
    "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
    `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`, `rtp_ports ${rtp.min}-${rtp.max}`, ""].join("\n"));
  fs.writeFileSync(path.join(conf, "accounts"),
    `<sip:9790000@127.0.0.1:${bport + 1};transport=tls>;regint=0;answermode=auto;mediaenc=srtp-mand\n`);
  bare = spawn("baresip", ["-f", conf], { env: { ...process.env, HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
  bare.stdout.on("data", (b) => { bareLog += b; });
  bare.stderr.on("data", (b) => { bareLog += b; });
  await until(() => /baresip is ready/.test(bareLog) || bare.exitCode !== null, 10000, 50, "baresip");
  assert.equal(bare.exitCode, null, bareLog);

  // a callee over UDP that answers any offer with plain RTP
  plainPeer = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"), { args: ["-m", "1"] });
  tlsPort = await freePort();
  const trunk = (name, port, prio, extra = []) => [`[trunk ${name}]`, "host = 127.0.0.1",
    `port = ${port}`, "transport = tls", `tls_ca_file = ${ca.cert}`, "route = 008613800001111 strip=15 prefix=9790000",
    `priority = ${prio}`, "options_interval = 0", "srtp = required", ...extra];
  d = await startCccd({
    sipLines: [`tls_listen = 127.0.0.1:${tlsPort}`, `tls_cert = ${cccdCert.cert}`,
      `tls_key = ${cccdCert.key}`],
    inboundFrom: null,
    sections: [
      ...trunk("stranger", stranger.port, 1), ...trunk("misnamed", misnamed.port, 2),
      ...trunk("baresip", bport + 1, 3),
      ...trunk("unverified", unverified.port, 9, ["tls_verify = false"]).map((l) => l.replace(/^route = .*/, "route = 008613800002222 strip=15 prefix=555")),
      "[trunk plain]", "host = 127.0.0.1", `port = ${plainPeer.port}`, "transport = udp",
      "route = 008613800003333", "options_interval = 0", "srtp = required",
    ].join("\n"),
  });
  // prompts are read from inside cccd's folder (its working directory)
  prompts = fs.mkdtempSync(path.join(ROOT, "build", "test-prompts-"));
  execFileSync("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", path.join(prompts, "quiet.wav"),
    "synth", "5", "sine", "1000", "vol", "0.02"]);
  const flow = { ivrId: 70, name: "tls", type: "autoOutbound", start: "s", record: true,
    nodes: [{ id: "s", type: "start", next: "p" },
      { id: "p", type: "prompt", params: { file: path.relative(ROOT, path.join(prompts, "quiet.wav")), plays: 1 }, next: "bye" },
      { id: "bye", type: "hangup" }] };
  fs.writeFileSync(path.join(d.dir, "70.json"), JSON.stringify(flow));
  fs.writeFileSync(path.join(d.dir, "71.json"), JSON.stringify({ ...flow, ivrId: 71, type: "inbound" }));
  creds = d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", `70:autoOutbound:${d.dir}/70.json`,
    "--ivr", `71:inbound:${d.dir}/71.json`, "--number", "008675512347000", "--rules", "demo"]);
  api = client(creds, d.endpoint);
  d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(SDKAPPID),
    "--number", "008675587650000", "--outbound", "no", "--inbound-ivr", "71"]);
});

after(async () => {
  await plainPeer?.stop();
  if (bare && bare.exitCode === null) bare.kill("SIGKILL");
  for (const s of servers) s.close();
  await d?.close();
  rtp?.release();
  if (prompts) fs.rmSync(prompts, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("a TLS + SRTP call to baresip: bad certificates refused and failed over, the audio decrypted", async () => {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613800001111", IVRId: 70 });
  assert.equal(r.err, undefined, r.message);
  const s = await finished(api, SDKAPPID, r.SessionId, 60000);
  assert.ok(s, "the session ends");
  await d.waitLog(/trunk stranger: TLS certificate refused: unable to get local issuer certificate/,
    "the stranger's certificate is refused with its reason");
  await d.waitLog(/trunk misnamed: TLS certificate refused: (IP address mismatch|hostname mismatch).*expected name 127\.0\.0\.1/,
    "the misnamed certificate is refused");
  assert.equal(stranger.got, "", "nothing reached the stranger");
  assert.equal(misnamed.got, "", "nothing reached the misnamed peer");
  const cdr = await until(() => cdrOf(api, SDKAPPID, r.SessionId), 5000, 100, "the CDR");
  assert.equal(cdr.EndStatus, 1, `answered by baresip: ${JSON.stringify(cdr)}\n${d.log.slice(-3000)}\n${bareLog.slice(-3000)}`);
  // baresip's SRTP is mandatory: it answered only because the offer carried a key
  assert.match(bareLog, /SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_80\)/);
  const ev = (await rawCdr(r.SessionId)).CccdEvidence;
  assert.equal(ev.Trunk, "baresip");
  assert.equal(ev.Transport, "TLS");
  assert.equal(ev.Srtp, true);
  assert.equal(ev.Quality.Received.LossPercent, 0, JSON.stringify(ev));
  const wav = path.join(d.dir, "recordings", String(SDKAPPID), `${r.SessionId}.wav`);
  await until(() => fs.existsSync(wav), 5000, 100, "the recording");
  await sleep(500);
  const left = wavSamples(wav).filter((_, i) => i % 2 === 0);
  let best = 0;
  for (let at = 0; at + 4000 <= left.length; at += 1000) best = Math.max(best, toneShare(left.slice(at, at + 4000), 440));
  assert.ok(best > 0.7, `baresip's 440 Hz in the recording: ${best.toFixed(2)}`);
});

// baresip's control socket (ctrl_tcp): one netstring-framed JSON command.
function bareCommand(command, params) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(ctrlPort, "127.0.0.1", () => {
      const msg = JSON.stringify({ command, params, token: "t1" });
      sock.write(`${Buffer.byteLength(msg)}:${msg},`);
    });
    let got = "";
    sock.on("data", (b) => { got += b; if (/"response"/.test(got)) { sock.end(); resolve(got); } });
    sock.on("error", reject);
    setTimeout(() => { sock.destroy(); resolve(got); }, 5000);
  });
}

test("baresip calls in over TLS with SRTP: answered, its audio decrypted into the recording", async () => {
  const since = Math.floor(Date.now() / 1000) - 5;
  const inbound = async () => {
    const l = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: since,
      EndTimeStamp: since + 3600, PageSize: 100, PageNumber: 0 });
    return (l.TelCdrs || []).find((c) => c.Direction === 0) || null;
  };
  // the inbound number table is re-read every 5 s: a dial before that is refused, so
  // dial again (at most 3 times) until a call's record appears
  let cdr = null;
  for (let attempt = 0; attempt < 3 && !cdr; attempt++) {
    await bareCommand("dial", `sip:+8675587650000@127.0.0.1:${tlsPort};transport=tls`);
    cdr = await until(inbound, 20000, 500, "the inbound call's record").catch(() => null);
  }
  assert.ok(cdr, bareLog.slice(-3000));
  assert.ok(cdr.Duration >= 3, JSON.stringify(cdr));
  const ev = (await rawCdr(cdr.SessionId)).CccdEvidence;
  assert.equal(ev.Transport, "TLS", JSON.stringify(ev));
  assert.equal(ev.Srtp, true);
  assert.match(bareLog, /SRTP is Enabled/);
  const wav = path.join(d.dir, "recordings", String(SDKAPPID), `${cdr.SessionId}.wav`);
  await until(() => fs.existsSync(wav), 5000, 100, "the recording");
  await sleep(500);
  const left = wavSamples(wav).filter((_, i) => i % 2 === 0);
  let best = 0;
  for (let at = 0; at + 4000 <= left.length; at += 1000) best = Math.max(best, toneShare(left.slice(at, at + 4000), 440));
  assert.ok(best > 0.7, `baresip's 440 Hz in the inbound recording: ${best.toFixed(2)}`);
});

test("tls_verify = false connects to a certificate no CA vouches for", async () => {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613800002222", IVRId: 70 });
  assert.equal(r.err, undefined, r.message);
  await until(() => /INVITE sip:555@127\.0\.0\.1/.test(unverified.got), 15000, 50, "the INVITE over TLS");
  assert.match(unverified.got, /Via: SIP\/2\.0\/TLS /);
  assert.match(unverified.got, /m=audio \d+ RTP\/SAVP/);
  assert.match(unverified.got, /a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
  await api.HangUpCall({ SdkAppId: SDKAPPID, SessionId: r.SessionId });
});

test("cccd's TLS listener answers an OPTIONS with its certificate", async () => {
  const sock = tls.connect({ host: "127.0.0.1", port: tlsPort, ca: fs.readFileSync(ca.cert) });
  let got = "";
  sock.on("data", (b) => { got += b; });
  await new Promise((r, j) => { sock.once("secureConnect", r); sock.once("error", j); });
  const lp = sock.localPort;
  sock.write([`OPTIONS sip:cccd@127.0.0.1:${tlsPort};transport=tls SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:${lp};branch=z9hG4bK-tls-1`, "Max-Forwards: 70",
    `From: <sip:probe@127.0.0.1>;tag=1`, `To: <sip:cccd@127.0.0.1>`, "Call-ID: tls-options-1",
    "CSeq: 1 OPTIONS", "Content-Length: 0", "", ""].join("\r\n"));
  await until(() => /^SIP\/2\.0 \d{3}/.test(got), 10000, 50, "an answer over TLS");
  assert.match(got, /^SIP\/2\.0 200/);
  sock.destroy();
});

test("a plain offer from a trunk that requires SRTP gets 488", async () => {
  const caller = await sipp(path.join(ROOT, "tests/sip/uac_plain_488.xml"),
    { args: ["-s", "8001", "-m", "1", `127.0.0.1:${d.sipPort}`] });
  assert.equal(await caller.wait(20000), 0, caller.log.slice(-2000));
  await d.waitLog(/SDP offer without a usable a=crypto \(SDES\) from trunk stranger: it requires SRTP/,
    "the refusal says why");
});

test("an answer without a=crypto from a trunk that requires SRTP fails the call", async () => {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613800003333", IVRId: 70 });
  assert.equal(r.err, undefined, r.message);
  assert.ok(await finished(api, SDKAPPID, r.SessionId, 30000), "the session ends");
  assert.equal(await plainPeer.wait(10000), 0, `the callee got ACK and BYE:\n${plainPeer.log.slice(-2000)}`);
  const cdr = await until(() => cdrOf(api, SDKAPPID, r.SessionId), 5000, 100, "the CDR");
  assert.notEqual(cdr.EndStatus, 1, JSON.stringify(cdr));
  await d.waitLog(/SDP answer without a usable a=crypto \(SDES\) from trunk plain: it requires SRTP/,
    "the log says why");
  await d.waitLog(/SDP answer without SRTP \(a=crypto\) on a trunk that requires it/,
    "the call's end says why");
});
