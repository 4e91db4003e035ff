// probe: a few measuring calls into cccd while sipp loads it (bench/calls/run.sh). Each is a
// minimal SIP UAC on loopback (INVITE with SDP, ACK, BYE) whose RTP port is its own, so it
// sees cccd's packets: how long after the 200 OK the first prompt packet arrives, and the
// send jitter (arrival interval minus 20 ms; the probe's own scheduling is included, so it
// is an upper bound). Prints one line of JSON. Bounded: every call ends after --seconds.
//
//   node bench/calls/probe.mjs --sip 127.0.0.1:17060 --number 008675517000000 \
//        --calls 4 --seconds 10 --rtp-base 17900
import dgram from "node:dgram";
import crypto from "node:crypto";

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) =>
  (v.startsWith("--") ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const [sipHost, sipPort] = (args.sip || "127.0.0.1:17060").split(":");
const NUMBER = args.number || "008675517000000";
const CALLS = Number(args.calls || 4);
const SECONDS = Number(args.seconds || 10);
const RTP_BASE = Number(args["rtp-base"] || 17900);

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const bind = (port) => new Promise((resolve, reject) => {
  const s = dgram.createSocket("udp4");
  s.once("error", reject);
  s.bind(port, "127.0.0.1", () => resolve(s));
});

async function call(i) {
  const sip = await bind(0), rtp = await bind(RTP_BASE + 2 * i);
  const lport = sip.address().port, rport = RTP_BASE + 2 * i;
  const callId = crypto.randomBytes(8).toString("hex"), tag = crypto.randomBytes(4).toString("hex");
  const from = `<sip:008613800000000@127.0.0.1:${lport}>;tag=${tag}`;
  const to = `<sip:${NUMBER}@${sipHost}:${sipPort}>`;
  const via = () => `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK${crypto.randomBytes(6).toString("hex")}`;
  const sdp = ["v=0", `o=probe 1 1 IN IP4 127.0.0.1`, "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
    `m=audio ${rport} RTP/AVP 0 101`, "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
    "a=ptime:20", ""].join("\r\n");
  const send = (text) => sip.send(Buffer.from(text), Number(sipPort), sipHost);
  const r = { ok: false, first: null, intervals: [] };
  let t200 = null, last = null, toHdr = null, contact = null, byeDone = null;
  let lastSeq = null, lastTs = null;
  rtp.on("message", (b) => {
    const t = nowMs();
    if (b.length < 12) return;
    const seq = b.readUInt16BE(2), ts = b.readUInt32BE(4);
    if (t200 !== null && r.first === null) r.first = t - t200;
    // Only back-to-back frames (next sequence number, 160 samples later): a pause between
    // prompts is silence, not jitter.
    if (last !== null && ((lastSeq + 1) & 0xffff) === seq && ((ts - lastTs) >>> 0) === 160)
      r.intervals.push(t - last);
    last = t;
    lastSeq = seq;
    lastTs = ts;
  });
  const answered = new Promise((resolve) => {
    sip.on("message", (b) => {
      const m = b.toString();
      const code = Number(m.split(" ")[1]);
      if (m.startsWith("SIP/2.0") && / INVITE\r\n/.test(m.match(/^CSeq:.*$/im)?.[0] + "\r\n")) {
        if (code >= 200 && t200 === null) {
          t200 = nowMs();
          toHdr = m.match(/^To:\s*(.*)$/im)[1].trim();
          contact = (m.match(/^Contact:\s*<([^>]*)>/im) || [])[1] || `sip:${NUMBER}@${sipHost}:${sipPort}`;
          send([`ACK ${contact} SIP/2.0`, via(), `From: ${from}`, `To: ${toHdr}`, `Call-ID: ${callId}`,
            "CSeq: 1 ACK", "Max-Forwards: 70", "Content-Length: 0", "", ""].join("\r\n"));
          r.ok = code === 200;
          resolve();
        }
      } else if (m.startsWith("SIP/2.0") && /^CSeq:\s*2 BYE/im.test(m)) {
        byeDone?.();
      } else if (m.startsWith("BYE ")) {
        // cccd hung up first: answer it.
        const hdr = (h) => m.match(new RegExp(`^${h}:.*$`, "im"))[0];
        send(["SIP/2.0 200 OK", hdr("Via"), hdr("From"), hdr("To"), hdr("Call-ID"), hdr("CSeq"),
          "Content-Length: 0", "", ""].join("\r\n"));
        byeDone?.();
      }
    });
  });
  const invite = [`INVITE sip:${NUMBER}@${sipHost}:${sipPort} SIP/2.0`, via(), `From: ${from}`, `To: ${to}`,
    `Call-ID: ${callId}`, "CSeq: 1 INVITE", `Contact: <sip:probe@127.0.0.1:${lport}>`, "Max-Forwards: 70",
    "Content-Type: application/sdp", `Content-Length: ${Buffer.byteLength(sdp)}`, "", sdp].join("\r\n");
  send(invite);
  const resend = setInterval(() => { if (t200 === null) send(invite); }, 1000);
  await Promise.race([answered, sleep(10000)]);
  clearInterval(resend);
  if (r.ok) {
    await sleep(SECONDS * 1000);
    const done = new Promise((res) => { byeDone = res; });
    send([`BYE ${contact} SIP/2.0`, via(), `From: ${from}`, `To: ${toHdr}`, `Call-ID: ${callId}`,
      "CSeq: 2 BYE", "Max-Forwards: 70", "Content-Length: 0", "", ""].join("\r\n"));
    await Promise.race([done, sleep(2000)]);
  }
  sip.close();
  rtp.close();
  return r;
}

function pct(xs, p) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const results = await Promise.all(Array.from({ length: CALLS }, (_, i) => sleep(i * 150).then(() => call(i))));
const dev = results.flatMap((r) => r.intervals.map((x) => Math.abs(x - 20)));
const firsts = results.filter((r) => r.first !== null).map((r) => r.first);
const out = {
  calls: CALLS, answered: results.filter((r) => r.ok).length,
  jitter_p50_ms: pct(dev, 50), jitter_p99_ms: pct(dev, 99), packets: dev.length,
  first_packet_ms_p50: pct(firsts, 50), first_packet_ms_max: firsts.length ? Math.max(...firsts) : null,
};
console.log(JSON.stringify(out));
