// RTP helpers for tests: G.711 µ-law/A-law encoding and decoding, pcaps of tones and in-band
// DTMF for sipp's play_pcap_audio, an RTP receiver on a loopback port, and a
// normalised cross-correlation to check that received audio is a known prompt.
import dgram from "node:dgram";
import fs from "node:fs";

// ITU-T G.711 µ-law: 16-bit linear sample → byte.
export function ulawEncode(s) {
  const BIAS = 0x84, CLIP = 32635;
  let sign = 0;
  if (s < 0) { s = -s; sign = 0x80; }
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}

// ITU-T G.711 A-law: 16-bit linear sample → byte.
export function alawEncode(s) {
  const sign = s >= 0 ? 0x80 : 0;
  let v = s >= 0 ? s : -s - 1;
  if (v > 32635) v = 32635;
  let exp = 7;
  for (let mask = 0x4000; (v & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = exp === 0 ? (v >> 4) & 0x0f : (v >> (exp + 3)) & 0x0f;
  return (sign | (exp << 4) | mant) ^ 0x55;
}

export function ulawDecode(u) {
  u = ~u & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

export function alawDecode(a) {
  a ^= 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

const DTMF = { 1: [697, 1209], 2: [697, 1336], 3: [697, 1477], 4: [770, 1209], 5: [770, 1336],
  6: [770, 1477], 7: [852, 1209], 8: [852, 1336], 9: [852, 1477], "*": [941, 1209],
  0: [941, 1336], "#": [941, 1477] };

// 8 kHz samples: for each key, `toneMs` of its two tones (each about -7 dBm0) then
// `gapMs` of silence; `leadMs` of silence first.
export function dtmfSamples(keys, { leadMs = 200, toneMs = 120, gapMs = 200 } = {}) {
  const out = [];
  for (let i = 0; i < leadMs * 8; i++) out.push(0);
  for (const k of keys) {
    const [lo, hi] = DTMF[k];
    for (let i = 0; i < toneMs * 8; i++) {
      const t = i / 8000;
      out.push(Math.round(7000 * Math.sin(2 * Math.PI * lo * t) + 7000 * Math.sin(2 * Math.PI * hi * t)));
    }
    for (let i = 0; i < gapMs * 8; i++) out.push(0);
  }
  return out;
}

// 8 kHz samples of a sine tone.
export function toneSamples(hz, seconds, amplitude = 8000) {
  return Array.from({ length: Math.round(seconds * 8000) },
    (_, i) => Math.round(amplitude * Math.sin(2 * Math.PI * hz * i / 8000)));
}

// A pcap (Ethernet/IPv4/UDP/RTP, 20 ms packets; PCMU, or PCMA with codec "pcma") of the
// samples, as sipp's play_pcap_audio reads it (it keeps the RTP header and timing, and
// rewrites addresses).
export function writePcap(file, samples, codec = "pcmu") {
  const [pt, encode, silence] = codec === "pcma" ? [8, alawEncode, 0xd5] : [0, ulawEncode, 0xff];
  const bufs = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  bufs.push(gh);
  const ssrc = 0x5eed1234;
  for (let n = 0, off = 0; off < samples.length; n++, off += 160) {
    const rtp = Buffer.alloc(12 + 160, silence);
    rtp[0] = 0x80;
    rtp[1] = (n === 0 ? 0x80 : 0) | pt; // marker on the first packet
    rtp.writeUInt16BE(n & 0xffff, 2);
    rtp.writeUInt32BE(n * 160, 4);
    rtp.writeUInt32BE(ssrc, 8);
    for (let i = 0; i < 160 && off + i < samples.length; i++) rtp[12 + i] = encode(samples[off + i]);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(16000, 0);
    udp.writeUInt16BE(16002, 2);
    udp.writeUInt16BE(8 + rtp.length, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + rtp.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    Buffer.from([127, 0, 0, 1]).copy(ip, 12);
    Buffer.from([127, 0, 0, 1]).copy(ip, 16);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    ip.writeUInt16BE(~sum & 0xffff, 10);
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const pkt = Buffer.concat([eth, ip, udp, rtp]);
    const ph = Buffer.alloc(16);
    const us = n * 20000;
    ph.writeUInt32LE(1700000000 + Math.floor(us / 1e6), 0);
    ph.writeUInt32LE(us % 1e6, 4);
    ph.writeUInt32LE(pkt.length, 8);
    ph.writeUInt32LE(pkt.length, 12);
    bufs.push(ph, pkt);
  }
  fs.writeFileSync(file, Buffer.concat(bufs));
}

// Listens for RTP on 127.0.0.1:port; keeps every packet's payload type, sequence, timestamp,
// decoded samples and arrival time.
export function rtpSink(port) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const packets = [];
    sock.on("message", (b, rinfo) => {
      if (b.length < 12 || (b[0] & 0xc0) !== 0x80) return;
      const cc = b[0] & 0x0f, pt = b[1] & 0x7f;
      const payload = b.subarray(12 + 4 * cc);
      const decode = pt === 0 ? ulawDecode : pt === 8 ? alawDecode : null;
      packets.push({ pt, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8),
        at: Date.now(), from: rinfo.port,
        samples: decode ? Array.from(payload, decode) : null });
    });
    sock.on("error", reject);
    sock.bind(port, "127.0.0.1", () => resolve({
      packets,
      close: () => new Promise((r) => sock.close(r)),
    }));
  });
}

// The audio of the packets of one payload type in timestamp order, gaps filled with
// silence (a lost packet does not shift what follows).
export function audioOf(packets, pt) {
  const ps = packets.filter((p) => p.pt === pt && p.samples).sort((a, b) =>
    ((a.ts - b.ts) | 0));
  if (!ps.length) return [];
  const t0 = ps[0].ts, out = [];
  for (const p of ps) {
    const at = (p.ts - t0) >>> 0;
    while (out.length < at) out.push(0);
    for (let i = 0; i < p.samples.length; i++) out[at + i] = p.samples[i];
  }
  return out;
}

// The best normalised cross-correlation of `ref` inside `sig` (shifts 0..sig.length-ref),
// scanning `window` samples of ref: 1.0 is identical up to scale. Returns {score, shift}.
export function bestCorrelation(sig, ref, window = 4000) {
  const n = Math.min(window, ref.length);
  let refE = 0;
  for (let i = 0; i < n; i++) refE += ref[i] * ref[i];
  let best = { score: 0, shift: -1 };
  for (let s = 0; s + n <= sig.length; s++) {
    let dot = 0, e = 0;
    for (let i = 0; i < n; i++) { dot += sig[s + i] * ref[i]; e += sig[s + i] * sig[s + i]; }
    const score = e && refE ? dot / Math.sqrt(e * refE) : 0;
    if (score > best.score) best = { score, shift: s };
  }
  return best;
}

// Reads a 16-bit PCM mono WAV (as sox writes it): its samples.
export function wavSamples(file) {
  const b = fs.readFileSync(file);
  let off = 12;
  while (off + 8 <= b.length) {
    const id = b.toString("ascii", off, off + 4), len = b.readUInt32LE(off + 4);
    if (id === "data") {
      const out = [];
      for (let i = 0; i + 1 < len && off + 8 + i + 1 < b.length; i += 2) out.push(b.readInt16LE(off + 8 + i));
      return out;
    }
    off += 8 + len + (len & 1);
  }
  throw new Error(`${file}: no data chunk`);
}
