// Per-call evidence: a call answered by sipp whose RTP comes from a test peer that drops
// every 10th packet and sends one RTCP receiver report. The record (DescribeTelCdr and the
// CDR push body alike, both records_cdr) carries CccdEvidence: the Call-ID sipp logged,
// the trunk, 200, the media address of the answer, about 10 % loss with a MOS below a clean
// call's 4.41, and the peer's own report kept beside cccd's view. cccd exports its SIP as
// HEPv3 to a collector in this test, which decodes it, and keeps them for the session
// (CccdDescribeSipTrace, its own account only): both the same messages, in the same order,
// as sipp's own message log of the call.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT, startCccd, client, sipp, finished, freePort, until } from "./lib/cccd.mjs";
import { ulawEncode } from "./lib/rtp.mjs";

const SDKAPPID = 1400006000;
let d, phone, api, raw, other, peer, peerPort, rtcp, sippDir, hep, sessionId;
const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));

// Any action through the SDK's common client, the answer as sent (the SDK's models drop
// the fields TCCC does not define, cccd's additions among them).
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

async function cdrOf(sessionId) {
  const now = Math.floor(Date.now() / 1000);
  const r = await raw("DescribeTelCdr", { SdkAppId: SDKAPPID, StartTimeStamp: now - 3600,
    EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0, SessionIds: [sessionId] });
  assert.equal(r.err, undefined, r.message);
  return r.TelCdrList[0];
}

// An RTP peer on 127.0.0.1:port: learns cccd's stream from its first packet, then sends a
// 20 ms PCMU packet every 20 ms back to it, leaving out every 10th (sequence numbers go on,
// as a loss on the way would leave them).
function rtpPeer(port) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    const st = { sent: 0, dropped: 0, cccd: null, cccdSsrc: 0, timer: null };
    const payload = Buffer.alloc(160, ulawEncode(0));
    let seq = 1000, ts = 5000;
    s.on("message", (b, rinfo) => {
      if (b.length < 12 || st.cccd) return;
      st.cccd = { address: rinfo.address, port: rinfo.port };
      st.cccdSsrc = b.readUInt32BE(8);
      let n = 0;
      st.timer = setInterval(() => {
        n++;
        const h = Buffer.alloc(12);
        h[0] = 0x80; h[1] = 0;
        h.writeUInt16BE(seq++ & 0xffff, 2);
        h.writeUInt32BE(ts >>> 0, 4);
        h.writeUInt32BE(0x5eed5eed, 8);
        ts += 160;
        if (n % 10 === 0) { st.dropped++; return; }
        st.sent++;
        s.send(Buffer.concat([h, payload]), st.cccd.port, st.cccd.address);
      }, 20);
    });
    s.on("error", reject);
    s.bind(port, "127.0.0.1", () => resolve({ st, close: () => {
      clearInterval(st.timer);
      return new Promise((r) => s.close(r));
    } }));
  });
}

// An RTCP RR about cccd's stream: fraction 25/256, 7 lost, jitter 40 (5 ms), no LSR.
function receiverReport(cccdSsrc) {
  const b = Buffer.alloc(32);
  b[0] = 0x81; b[1] = 201; b.writeUInt16BE(7, 2);
  b.writeUInt32BE(0x5eed5eed, 4);
  b.writeUInt32BE(cccdSsrc, 8);
  b.writeUInt32BE((25 << 24) | 7, 12);
  b.writeUInt32BE(1234, 16);
  b.writeUInt32BE(40, 20);
  return b;
}

// A HEPv3 collector: each datagram decoded into its chunks (vendor 0 types → value).
function hepCollector() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    const got = [];
    s.on("message", (b) => {
      if (b.length < 6 || b.toString("latin1", 0, 4) !== "HEP3" || b.readUInt16BE(4) !== b.length) {
        got.push({ bad: true });
        return;
      }
      const c = {};
      for (let off = 6; off + 6 <= b.length;) {
        const type = b.readUInt16BE(off + 2), len = b.readUInt16BE(off + 4);
        if (len < 6 || off + len > b.length) { c.bad = true; break; }
        c[type] = b.subarray(off + 6, off + len);
        off += len;
      }
      got.push({
        bad: c.bad, family: c[1]?.[0], proto: c[2]?.[0], ptype: c[11]?.[0],
        src: c[3] && `${[...c[3]].join(".")}:${c[7].readUInt16BE(0)}`,
        dst: c[4] && `${[...c[4]].join(".")}:${c[8].readUInt16BE(0)}`,
        sec: c[9]?.readUInt32BE(0), usec: c[10]?.readUInt32BE(0), agent: c[12]?.readUInt32BE(0),
        auth: c[14]?.toString(), corr: c[17]?.toString(), payload: c[15]?.toString("latin1"),
      });
    });
    s.on("error", reject);
    s.bind(0, "127.0.0.1", () => resolve({ got, port: s.address().port, close: () => s.close() }));
  });
}

// sipp's -trace_msg log: each message with its direction as sipp saw it.
function sippMessages(text) {
  const out = [];
  for (const block of text.split(/^-{20,}.*$/m)) {
    const m = /^\s*UDP message (sent|received)[^\n]*\n\s*\n([\s\S]*)$/m.exec(block);
    if (m) out.push({ sent: m[1] === "sent", msg: m[2].replace(/^\s+/, "") });
  }
  return out;
}

// What identifies a message in both logs: its start line and CSeq.
function summary(msg) {
  const first = msg.split(/\r?\n/)[0].trim();
  const cseq = /^CSeq: *([^\r\n]+)/im.exec(msg);
  return `${first} | ${cseq ? cseq[1].trim() : ""}`;
}

before(async () => {
  hep = await hepCollector();
  peerPort = await freePort();
  peer = await rtpPeer(peerPort);
  rtcp = dgram.createSocket("udp4");
  await new Promise((r) => rtcp.bind(0, "127.0.0.1", r));
  sippDir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-evidence-sipp-"));
  phone = await sipp(path.join(ROOT, "tests/sip/uas_answer_sink.xml"),
    { args: ["-m", "1", "-key", "rtp1", String(peerPort), "-trace_msg"], cwd: sippDir });
  d = await startCccd({ trunkPort: phone.port, sipLines: [`hep_server = udp 127.0.0.1:${hep.port}`,
    "hep_id = 4242", "hep_password = homer-pw"] });
  const flow = {
    ivrId: 60, name: "evidence", type: "autoOutbound", start: "start",
    nodes: [
      { id: "start", type: "start", next: "hello" },
      { id: "hello", type: "prompt", label: "long",
        params: { tts: "This call is measured. It goes on for a few seconds, so that its " +
          "packets and their losses can be counted.", plays: 1 }, next: "bye" },
      { id: "bye", type: "hangup", params: { endStatus: "ivrEnd" } },
    ],
  };
  fs.writeFileSync(path.join(d.dir, "60.json"), JSON.stringify(flow));
  const creds = d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", `60:autoOutbound:${d.dir}/60.json`,
    "--number", "008675512346000", "--rules", "demo"]);
  api = client(creds, d.endpoint);
  raw = rawClient(creds);
  other = rawClient(d.tenant(["--sdkappid", String(SDKAPPID + 1), "--ivr", "1:autoOutbound",
    "--number", "008675512346001", "--rules", "demo"]));
});

after(async () => {
  await peer?.close();
  rtcp?.close();
  hep?.close();
  if (sippDir) fs.rmSync(sippDir, { recursive: true, force: true });
  await phone?.stop();
  await d?.close();
});

test("the record carries the call's evidence: Call-ID, trunk, status, media address, loss and MOS", async () => {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613800006001", IVRId: 60 });
  assert.equal(r.err, undefined, r.message);
  sessionId = r.SessionId;
  await until(() => peer.st.cccd, 20000, 50, "cccd's RTP");
  await until(() => peer.st.sent >= 40, 20000, 50, "the peer's RTP");
  // the peer's receiver report, to cccd's RTCP port (RTP + 1)
  rtcp.send(receiverReport(peer.st.cccdSsrc), peer.st.cccd.port + 1, "127.0.0.1");
  await finished(api, SDKAPPID, r.SessionId, 60000);
  assert.equal(await phone.wait(20000), 0, phone.log.slice(-2000));

  const cdr = await cdrOf(r.SessionId);
  const ev = cdr.CccdEvidence;
  assert.ok(ev && ev.Quality, JSON.stringify(cdr));
  // the Call-ID sipp logged for the INVITE it received
  const log = fs.readdirSync(sippDir).find((f) => f.endsWith("_messages.log"));
  assert.ok(log, "sipp's message log");
  const text = fs.readFileSync(path.join(sippDir, log), "latin1");
  const callId = /^Call-ID: *([^\r\n]+)/im.exec(text)[1].trim();
  assert.equal(ev.CallId, callId);
  assert.equal(ev.Trunk, "peer");
  assert.equal(ev.SipStatus, 200);
  assert.equal(ev.RemoteMediaAddress, `127.0.0.1:${peerPort}`);

  const q = ev.Quality;
  const lostPct = 100 * q.PacketsLost / q.PacketsExpected;
  console.log(`evidence: sent ${peer.st.sent} dropped ${peer.st.dropped}; cccd expected ` +
    `${q.PacketsExpected} received ${q.PacketsReceived} lost ${q.PacketsLost} ` +
    `(${lostPct.toFixed(1)} %), jitter ${q.Received.JitterMs} ms, R ${q.Received.R}, ` +
    `MOS ${q.Received.Mos}; peer report ${JSON.stringify(q.PeerReport)}`);
  assert.ok(q.PacketsExpected >= 40, JSON.stringify(q));
  assert.ok(lostPct > 7 && lostPct < 13, `loss ${lostPct} % of ${JSON.stringify(q)}`);
  assert.ok(q.Received.LossPercent > 7 && q.Received.LossPercent < 13);
  assert.ok(q.Received.Mos < 4.0 && q.Received.Mos > 2.5, `MOS ${q.Received.Mos}`);
  assert.ok(q.PacketsSent > 0);
  // the peer's own view, as it reported it
  assert.ok(q.PeerReport, JSON.stringify(q));
  assert.equal(q.PeerReport.PacketsLost, 7);
  assert.equal(q.PeerReport.Sent.JitterMs, 5);
  assert.ok(q.PeerReport.Sent.Mos > 4.0, "7 lost of hundreds sent is a good call");
});

test("cccd's SIP of the call reached the HEP collector: sipp's messages, in sipp's order", async () => {
  const log = fs.readdirSync(sippDir).find((f) => f.endsWith("_messages.log"));
  const theirs = sippMessages(fs.readFileSync(path.join(sippDir, log), "latin1"));
  assert.ok(theirs.length >= 5, `sipp logged ${theirs.length} messages`);
  const callId = /^Call-ID: *([^\r\n]+)/im.exec(theirs[0].msg)[1].trim();
  // the BYE's 200 may still be on its way
  await until(() => hep.got.filter((h) => h.corr === callId).length >= theirs.length, 10000, 50,
    "the call's HEP packets");
  assert.equal(hep.got.filter((h) => h.bad).length, 0, "every HEP packet decodes");
  const ours = hep.got.filter((h) => h.corr === callId);
  for (const h of ours) {
    assert.equal(h.family, 2);
    assert.equal(h.proto, 17);
    assert.equal(h.ptype, 1, "SIP");
    assert.equal(h.agent, 4242);
    assert.equal(h.auth, "homer-pw");
    assert.ok(Math.abs(h.sec - Date.now() / 1000) < 300 && h.usec < 1e6);
    assert.ok(h.payload.includes(`Call-ID: ${callId}`) || h.payload.includes(`i: ${callId}`));
  }
  // what sipp received, cccd sent (from its SIP port), and the other way round
  const cccdSip = `127.0.0.1:${d.sipPort}`;
  assert.deepEqual(ours.map((h) => `${h.src === cccdSip ? "cccd" : "peer"} ${summary(h.payload)}`),
    theirs.map((t) => `${t.sent ? "peer" : "cccd"} ${summary(t.msg)}`));
  console.log(`HEP: ${ours.length} messages of the call, as sipp logged them: ` +
    ours.map((h) => summary(h.payload).split(" | ")[0].split(" ").slice(0, 2).join(" ")).join(", "));
});

test("CccdDescribeSipTrace answers the session's SIP messages, as sipp logged them, to its own account only", async () => {
  const log = fs.readdirSync(sippDir).find((f) => f.endsWith("_messages.log"));
  const theirs = sippMessages(fs.readFileSync(path.join(sippDir, log), "latin1"));
  // the trace is written a few seconds after the end (the last responses with it)
  const trace = await until(async () => {
    const t = await raw("CccdDescribeSipTrace", { SdkAppId: SDKAPPID, SessionId: sessionId });
    assert.equal(t.err, undefined, t.message);
    return t.TotalCount >= theirs.length ? t : null;
  }, 30000, 250, "the stored SIP trace");
  assert.equal(trace.Messages.length, trace.TotalCount);
  const cccdSip = `127.0.0.1:${d.sipPort}`;
  for (const m of trace.Messages) {
    assert.equal(m.Direction === "sent", m.Source === cccdSip, JSON.stringify(m));
    assert.ok(m.TimestampUs > 1.6e15, "Unix microseconds");
    assert.ok(m.Message.includes(m.CallId));
  }
  assert.deepEqual(trace.Messages.map((m) => `${m.Direction === "sent" ? "cccd" : "peer"} ${summary(m.Message)}`),
    theirs.map((t) => `${t.sent ? "peer" : "cccd"} ${summary(t.msg)}`));
  // byte for byte what sipp received
  const invite = theirs.find((t) => !t.sent);
  assert.equal(trace.Messages[0].Message.replace(/\r\n/g, "\n").trim(), invite.msg.replace(/\r\n/g, "\n").trim());
  // another tenant: its own instance does not have the session; ours is not its to read
  const o = await other("CccdDescribeSipTrace", { SdkAppId: SDKAPPID + 1, SessionId: sessionId });
  assert.equal(o.err, "FailedOperation.SessionNotExists", JSON.stringify(o));
  const o2 = await other("CccdDescribeSipTrace", { SdkAppId: SDKAPPID, SessionId: sessionId });
  assert.equal(o2.err, "InvalidParameterValue.InstanceNotExist", JSON.stringify(o2));
});
