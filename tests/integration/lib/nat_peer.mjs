// The RTP side of a phone behind a NAT, run inside the peer's network namespace
// (`ip netns exec NS node nat_peer.mjs '<json>'`) by tests/integration/nat.test.mjs. It reads
// cccd's SDP from sipp's message log (its INVITE, or with `inbound` its 200 OK), then first an attacker on another address of
// the namespace sends a run of valid RTP in sequence to cccd's RTP port, then the phone
// sends PCMU (and key 1 over RFC 4733 after keyAtMs) from its public address, which is not
// the one its SDP announced. Prints what each received from cccd as one JSON line.
import dgram from "node:dgram";
import fs from "node:fs";

const a = JSON.parse(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function offer() {
  let text = "";
  try {
    text = fs.readFileSync(a.log, "utf8");
  } catch {
    return null;
  }
  const i = text.search(a.inbound ? /^SIP\/2\.0 200 OK[^]*?^m=audio/m : /^INVITE sip:/m);
  if (i < 0) return null;
  const msg = text.slice(i, text.indexOf("\n----", i) > 0 ? text.indexOf("\n----", i) : undefined);
  const c = /^c=IN IP4 (\S+)/m.exec(msg), m = /^m=audio (\d+)/m.exec(msg);
  return c && m ? { msg, addr: c[1], port: Number(m[1]) } : null;
}

function rtp(pt, seq, ts, ssrc, payload, marker = false) {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}

function socket(ip, port, got) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    s.on("message", (b, rinfo) => {
      if (b.length >= 12 && (b[0] & 0xc0) === 0x80 && (b[1] & 0x7f) === 0) {
        got.count++;
        got.from[`${rinfo.address}:${rinfo.port}`] = true;
      }
    });
    s.on("error", reject);
    s.bind(port, ip, () => resolve(s));
  });
}

const peerGot = { count: 0, from: {} }, attackerGot = { count: 0, from: {} };
let o = null;
for (let i = 0; i < 300 && !(o = offer()); i++) await sleep(50);
if (!o) {
  console.log(JSON.stringify({ error: "no SDP from cccd in sipp's message log" }));
  process.exit(1);
}
const peer = await socket(a.peerIp, a.port, peerGot);
const attacker = await socket(a.attackerIp, a.port, attackerGot);
const silence = Buffer.alloc(160, 0xff);
const send = (s, b) => new Promise((r) => s.send(b, o.port, o.addr, () => r()));

// The attacker goes first: a run long enough to pass any probation by sequence alone.
for (let i = 0; i < 12; i++) {
  await send(attacker, rtp(0, 1000 + i, 160 * i, 0xbad0bad0, silence, i === 0));
  await sleep(20);
}
const frames = Math.round(a.seconds * 50), keyAt = Math.round(a.keyAtMs / 20);
for (let i = 0; i < frames; i++) {
  const ts = 160 * i;
  if (i >= keyAt && i < keyAt + 8) {
    // RFC 4733 key 1: the same timestamp, growing duration, the last three with E
    const k = i - keyAt, end = k >= 5;
    const ev = Buffer.from([1, (end ? 0x80 : 0) | 10, 0, 0]);
    ev.writeUInt16BE(Math.min(k + 1, 6) * 160, 2);
    await send(peer, rtp(101, 5000 + i, 160 * keyAt, 0x1234abcd, ev, k === 0));
  } else {
    await send(peer, rtp(0, 5000 + i, ts, 0x1234abcd, silence, i === 0));
  }
  await sleep(20);
}
peer.close();
attacker.close();
console.log(JSON.stringify({ addr: o.addr, port: o.port, msg: o.msg, peer: peerGot,
  attacker: attackerGot }));
