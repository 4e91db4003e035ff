// Floods while real calls run: two answered calls play a prompt to a test RTP socket while
// INVITEs, OPTIONS and REGISTERs flood cccd's SIP port and RTP from unknown sources hits
// every port of its RTP range (the live streams' ports included) for a few seconds. The
// calls keep their audio (every packet, one SSRC each, nothing sent to the flooders) and
// end normally; what cccd refuses it refuses without state; cccd answers afterwards.
// Bug pinned: OPTIONS and INVITEs to a name were answered through a server transaction
// each (a 32 s timer per flooded request in libre's sorted timer list).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, freePort, until, sleep } from "./lib/cccd.mjs";
import { rtpSink } from "./lib/rtp.mjs";

const SDKAPPID = 1400005000;
const FLOOD_MS = 3000;
const RATE = 100;                 // each SIP flood, requests a second
const RTP_PPS = 20;               // per port of the range
let d, phone, api, sink, sinkPort, rtpMin, rtpMax;
const stops = [];

function udpSocket() {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const got = [];
    s.on("message", (b) => got.push(b));
    s.bind(0, "127.0.0.1", () => resolve({ s, got, port: s.address().port }));
  });
}

function request(method, ruri, port, { branch, callid, body = "" } = {}) {
  branch ??= `z9hG4bK${crypto.randomBytes(6).toString("hex")}`;
  callid ??= crypto.randomBytes(8).toString("hex");
  return Buffer.from(`${method} ${ruri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport\r\n` +
    `From: <sip:flood@127.0.0.1>;tag=${callid.slice(0, 6)}\r\nTo: <${ruri}>\r\n` +
    `Call-ID: ${callid}\r\nCSeq: 1 ${method}\r\nMax-Forwards: 70\r\n` +
    `Contact: <sip:flood@127.0.0.1:${port}>\r\n` +
    (body ? "Content-Type: application/sdp\r\n" : "") +
    `Content-Length: ${body.length}\r\n\r\n${body}`);
}

const SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
  "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

function parse(buf) {
  const t = buf.toString("latin1");
  const m = /^SIP\/2\.0 (\d{3})/.exec(t);
  const tag = /^To:[^\r\n]*;tag=([^;\r\n]+)/im.exec(t);
  const callid = /^Call-ID: *([^\r\n]+)/im.exec(t);
  return m ? { code: Number(m[1]), tag: tag && tag[1], callid: callid && callid[1] } : null;
}

before(async () => {
  sinkPort = await freePort();
  sink = await rtpSink(sinkPort);
  phone = await sipp(path.join(ROOT, "tests/sip/uas_answer_sink.xml"),
    { args: ["-m", "2", "-key", "rtp1", String(sinkPort)] });
  stops.push(phone);
  rtpMin = 40000 + Math.floor(Math.random() * 250) * 40;
  rtpMax = rtpMin + 39;
  d = await startCccd({ trunkPort: phone.port, rtpPorts: [rtpMin, rtpMax],
    sipLines: ["inbound_cps = 20"] });
  // about 5 s, played twice: longer than the flood, shorter than [media] rtp_timeout_ms
  // (the peer sends no RTP)
  const text = "Thank you for calling. This message is long on purpose, so that the call " +
    "is still playing it while the flood runs.";
  const flow = {
    ivrId: 50, name: "flood", type: "autoOutbound", start: "start",
    nodes: [
      { id: "start", type: "start", next: "hello" },
      { id: "hello", type: "prompt", label: "long", params: { tts: text, plays: 2 }, next: "bye" },
      // ivrEnd tells the flow's end from an RTP timeout (ok, system) in the record
      { id: "bye", type: "hangup", params: { endStatus: "ivrEnd" } },
    ],
  };
  fs.writeFileSync(path.join(d.dir, "50.json"), JSON.stringify(flow));
  api = client(d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", `50:autoOutbound:${d.dir}/50.json`,
    "--number", "008675512345000", "--rules", "demo"]), d.endpoint);
});

after(async () => {
  await sink?.close();
  for (const p of stops) await p.stop();
  await d?.close();
});

test("answered calls keep their audio through SIP and RTP floods; cccd answers afterwards", async (t) => {
  const ids = [];
  for (const callee of ["008613800005001", "008613800005002"]) {
    const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: callee, IVRId: 50 });
    assert.equal(r.err, undefined, r.message);
    ids.push(r.SessionId);
  }
  // both calls answered and playing
  await until(() => new Set(sink.packets.map((p) => p.ssrc)).size >= 2, 20000, 50,
    "audio of both calls");

  const sipFlood = await udpSocket();
  const rtpFlood = await udpSocket();
  const end = Date.now() + FLOOD_MS;
  let sent = { INVITE: 0, OPTIONS: 0, REGISTER: 0, RTP: 0 };
  const uri = `sip:%s@127.0.0.1:${d.sipPort}`;
  const junk = Buffer.alloc(172);
  while (Date.now() < end) {
    for (let i = 0; i < RATE / 50; i++) {
      const num = `0086139${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
      sipFlood.s.send(request("INVITE", uri.replace("%s", num), sipFlood.port, { body: SDP }),
        d.sipPort, "127.0.0.1");
      sipFlood.s.send(request("OPTIONS", uri.replace("%s", "x"), sipFlood.port), d.sipPort,
        "127.0.0.1");
      sipFlood.s.send(request("REGISTER", `sip:127.0.0.1:${d.sipPort}`, sipFlood.port),
        d.sipPort, "127.0.0.1");
      sent.INVITE++; sent.OPTIONS++; sent.REGISTER++;
    }
    for (let port = rtpMin; port <= rtpMax; port++) {
      if (Math.random() * 50 >= RTP_PPS) continue;
      crypto.randomFillSync(junk);
      junk[0] = 0x80; junk[1] = 0;            // RTP v2, PCMU: what a stream would take
      rtpFlood.s.send(junk, port, "127.0.0.1");
      sent.RTP++;
    }
    await sleep(20);
  }
  await sleep(1000);
  // requests answered, by code (a 404 inside a transaction is sent again until an ACK that
  // the flood never sends: counted once)
  const codes = {}, seen = new Set();
  for (const b of sipFlood.got) {
    const r = parse(b);
    if (!r || seen.has(`${r.code} ${r.callid}`)) continue;
    seen.add(`${r.code} ${r.callid}`);
    codes[r.code] = (codes[r.code] || 0) + 1;
  }
  sipFlood.s.close();

  // the calls end as the flow says, their peer saw a normal call
  for (const id of ids) await finished(api, SDKAPPID, id, 60000);
  assert.equal(await phone.wait(20000), 0, phone.log.slice(-2000));
  for (const id of ids) {
    const cdr = await cdrOf(api, SDKAPPID, id);
    assert.ok(cdr.AcceptTimestamp > 0, JSON.stringify(cdr));
    assert.equal(cdr.HungUpSide, "system", "the flow hung up, not the peer or the flood");
    assert.equal(cdr.EndStatus, 107, "ivrEnd: the flow's hang-up node, not an RTP timeout");
  }
  rtpFlood.s.close();
  assert.equal(rtpFlood.got.length, 0, "no RTP was sent to the flood's source (no latching)");

  // every packet of each call's stream arrived: no sequence gaps, one SSRC per call
  const streams = new Map();
  for (const p of sink.packets.filter((x) => x.pt === 0)) {
    if (!streams.has(p.ssrc)) streams.set(p.ssrc, []);
    streams.get(p.ssrc).push(p);
  }
  assert.equal(streams.size, 2, `streams: ${[...streams.keys()]}`);
  for (const [ssrc, ps] of streams) {
    const seqs = ps.map((p) => p.seq);
    const span = ((seqs[seqs.length - 1] - seqs[0]) & 0xffff) + 1;
    const lost = span - new Set(seqs).size;
    // loopback loses nothing; a few packets late under the flood's CPU are allowed
    assert.ok(lost <= Math.ceil(span * 0.01), `stream ${ssrc}: ${lost} of ${span} lost`);
    assert.ok(span > (FLOOD_MS / 20), `stream ${ssrc} covered the flood (${span} packets)`);
    t.diagnostic(`stream ${ssrc}: ${span} packets, ${lost} lost`);
  }
  t.diagnostic(`sent ${JSON.stringify(sent)}, answered ${JSON.stringify(codes)}`);

  // what the floods got: OPTIONS 200, REGISTER 405, INVITEs to numbers nobody has either
  // judged (404) or refused above inbound_cps (503)
  assert.ok((codes[200] || 0) >= sent.OPTIONS * 0.9, `OPTIONS: ${JSON.stringify(codes)} of ${JSON.stringify(sent)}`);
  assert.ok((codes[405] || 0) >= sent.REGISTER * 0.9, JSON.stringify(codes));
  assert.ok((codes[503] || 0) > 0 && (codes[404] || 0) > 0, JSON.stringify(codes));
  assert.ok((codes[404] || 0) + (codes[503] || 0) + (codes[100] || 0) >= sent.INVITE * 0.9,
    JSON.stringify(codes));
  assert.ok((codes[404] || 0) <= 20 * (FLOOD_MS / 1000 + 2),
    `inbound_cps bounds the judged INVITEs: ${JSON.stringify(codes)}`);

  // cccd is alive
  const s = await udpSocket();
  s.s.send(request("OPTIONS", `sip:x@127.0.0.1:${d.sipPort}`, s.port), d.sipPort, "127.0.0.1");
  await until(() => s.got.length, 5000, 50, "an answer to OPTIONS");
  assert.equal(parse(s.got[0]).code, 200);
  s.s.close();
});

// A request sent twice with the same branch: a server transaction would absorb the second
// and send its first answer again (the same To tag); a stateless answer judges it again
// (a new To tag). Everything cccd refuses outside a call is answered statelessly.
for (const [what, method, user, body, code] of [
  ["OPTIONS", "OPTIONS", "x", "", 200],
  ["REGISTER", "REGISTER", null, "", 405],
  ["an INVITE to a name", "INVITE", "alice", SDP, 404],
]) {
  test(`${what} is answered ${code} without state`, async () => {
    const s = await udpSocket();
    const ruri = user ? `sip:${user}@127.0.0.1:${d.sipPort}` : `sip:127.0.0.1:${d.sipPort}`;
    const msg = request(method, ruri, s.port, { branch: "z9hG4bKstateless" + method, body });
    s.s.send(msg, d.sipPort, "127.0.0.1");
    await until(() => s.got.map(parse).some((r) => r && r.code === code), 5000, 20, "the answer");
    s.s.send(msg, d.sipPort, "127.0.0.1");
    await until(() => s.got.map(parse).filter((r) => r && r.code === code).length >= 2, 5000, 20,
      "the second answer");
    s.s.close();
    const tags = s.got.map(parse).filter((r) => r && r.code === code).map((r) => r.tag);
    assert.notEqual(tags[0], tags[1], "judged again, not a transaction's retransmission");
  });
}
