// RFC 4475 §3.1 torture messages (tests/sip/torture/<name>.txt, bytes as sent) over UDP
// and TCP to a real cccd: the valid ones are handled as any request of their kind (OPTIONS
// 200, an INVITE to a name that is no number 404, other methods 405, responses ignored),
// the invalid ones refused with the code the RFC gives (400 naming the fault, 505 for
// SIP/7.0), and cccd answers a normal call afterwards. Bugs pinned: an INVITE whose
// Content-Length exceeded the datagram (9999) or was negative started a call on a real
// number; <> around the Request-URI, escaped headers in it, an unterminated quoted display
// name and spaces or non-token characters in addresses were accepted; SIP/7.0 and other
// undecodable datagrams got no answer at all.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { ROOT, startCccd, client, freePort, until, sleep } from "./lib/cccd.mjs";

const DIR = path.join(ROOT, "tests/sip/torture");
const SDKAPPID = 1400004475;
const NUMBER = "008675587654475";

// What cccd answers to each message: a status code, "none" (a response: never answered),
// or a list when one datagram or stream carries two requests. `tcp` overrides the UDP
// answer where the transport changes the reading (Content-Length frames a stream; a stream
// libre cannot decode is closed unanswered).
const EXPECT = {
  // 3.1.1 valid
  wsinv: { section: "3.1.1.1", code: 481 },       // a To tag: a re-INVITE of no dialog
  intmeth: { section: "3.1.1.2", code: 405 },
  esc01: { section: "3.1.1.3", code: 404 },
  escnull: { section: "3.1.1.4", code: 405 },     // REGISTER
  esc02: { section: "3.1.1.5", code: 405 },       // RE%47IST%45R is not REGISTER
  lwsdisp: { section: "3.1.1.6", code: 200 },
  // libre 1.1.0 cannot decode a request whose top Via has no branch (RFC 2543 style):
  // refused by name over UDP, closed unanswered by libre over TCP
  longreq: { section: "3.1.1.7", code: 400, tcp: "closed" },
  dblreq: { section: "3.1.1.8", code: 405, tcp: [405, 404] }, // the trailing INVITE: UDP noise, a TCP request
  semiuri: { section: "3.1.1.9", code: 200 },
  transports: { section: "3.1.1.10", code: 200 },
  mpart01: { section: "3.1.1.11", code: 405 },    // MESSAGE
  unreason: { section: "3.1.1.12", code: "none" },
  noreason: { section: "3.1.1.13", code: "none" },
  // 3.1.2 invalid
  badinv01: { section: "3.1.2.1", code: 400, tcp: "closed" }, // libre cannot decode it
  clerr: { section: "3.1.2.2", code: 400, tcp: "waits" }, // a stream waits for the 9999 bytes
  ncl: { section: "3.1.2.3", code: 400 },
  scalar02: { section: "3.1.2.4", code: 400 },
  scalarlg: { section: "3.1.2.5", code: "none" },
  quotbal: { section: "3.1.2.6", code: 400 },
  // a Request-Line libre cannot read: over TCP libre drops it (and closes or waits)
  ltgtruri: { section: "3.1.2.7", code: 400, tcp: "dropped" },
  lwsruri: { section: "3.1.2.8", code: 400, tcp: "dropped" },
  lwsstart: { section: "3.1.2.9", code: 400, tcp: "dropped" },
  trws: { section: "3.1.2.10", code: 400, tcp: "dropped" },
  escruri: { section: "3.1.2.11", code: 400 },
  baddate: { section: "3.1.2.12", code: 404 },    // accepted (the RFC allows it): Date is unused
  regbadct: { section: "3.1.2.13", code: 400 },
  badaspec: { section: "3.1.2.14", code: 400 },
  baddn: { section: "3.1.2.15", code: 400 },
  badvers: { section: "3.1.2.16", code: 505, tcp: "closed" },
  // libre matches server transactions by branch and CSeq method alone: over TCP
  // mismatch01 would be absorbed by esc01's INVITE transaction (same branch, still
  // waiting for its ACK), so it goes to a fresh cccd
  mismatch01: { section: "3.1.2.17", code: 400, fresh: true },
  mismatch02: { section: "3.1.2.18", code: 400 },
  bigcode: { section: "3.1.2.19", code: "none" },
};

// Two cccd processes: a message sent over UDP and then over TCP carries the same Via branch,
// and one cccd would take the second for a retransmission of the first (RFC 3261 §17.2.3)
// and answer it on the first transport.
let d, dt, tcpPort;

function codesOf(text) {
  return [...text.matchAll(/^SIP\/2\.0 (\d{3}) ?([^\r\n]*)\r\n/gm)].map((m) => ({
    code: Number(m[1]), reason: m[2] }));
}

// Over UDP a response goes to the top Via's sent-by (RFC 3261 §18.2.2): the test puts its
// own address there, the only change it makes to a message.
function viaToUs(bytes, port) {
  const text = bytes.toString("latin1");
  const via = text.search(/^(Via|v)[ \t]*:/im);
  if (via < 0) return bytes;
  const rest = text.slice(via).replace(/(SIP\s*\/\s*\d\.\d\s*\/\s*[A-Za-z]+\s+)([^\s;,]+)/,
    `$1127.0.0.1:${port}`);
  return Buffer.from(text.slice(0, via) + rest, "latin1");
}

// Sends one datagram; collects what comes back within ms.
async function overUdp(bytes, ms = 700) {
  const s = dgram.createSocket("udp4");
  const got = [];
  s.on("message", (b) => got.push(b.toString("latin1")));
  await new Promise((r) => s.bind(0, "127.0.0.1", r));
  s.send(viaToUs(bytes, s.address().port), d.sipPort, "127.0.0.1");
  await sleep(ms);
  s.close();
  return codesOf(got.join(""));
}

// Sends the bytes on a new TCP connection; what comes back within ms, and whether cccd
// closed the connection.
function overTcp(bytes, ms = 700) {
  return new Promise((resolve) => {
    let text = "", closed = false;
    const c = net.connect(tcpPort, "127.0.0.1", () => c.write(bytes));
    c.on("data", (b) => { text += b.toString("latin1"); });
    c.on("close", () => { closed = true; });
    c.on("error", () => { closed = true; });
    setTimeout(() => { c.destroy(); resolve({ codes: codesOf(text), closed }); }, ms);
  });
}

function torture(name) {
  return fs.readFileSync(path.join(DIR, `${name}.txt`));
}

before(async () => {
  tcpPort = await freePort();
  dt = await startCccd({ sipLines: [`listen = tcp 127.0.0.1:${tcpPort}`] });
  d = await startCccd();
  const flow = {
    ivrId: 75, name: "torture line", type: "inbound", start: "start",
    nodes: [
      { id: "start", type: "start", next: "hello" },
      { id: "hello", type: "prompt", label: "welcome", params: { tts: "Hello.", plays: 10 },
        next: "bye" },
      { id: "bye", type: "hangup" },
    ],
  };
  fs.writeFileSync(path.join(d.dir, "75.json"), JSON.stringify(flow));
  d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", `75:inbound:${d.dir}/75.json`,
    "--rules", "demo"]);
  d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(SDKAPPID),
    "--number", NUMBER, "--outbound", "no", "--inbound-ivr", "75"]);
  // a restart reads the inbound numbers at once (a running cccd re-reads them every 5 s)
  await d.stop();
  await d.start();
});

after(async () => {
  await dt?.close();
  await d?.close();
});

test("every RFC 4475 §3.1 message has an expectation", () => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".txt")).map((f) => f.slice(0, -4));
  assert.deepEqual(files.sort(), Object.keys(EXPECT).sort());
});

for (const [name, want] of Object.entries(EXPECT)) {
  test(`RFC 4475 ${want.section} ${name} over UDP: ${want.code}`, async () => {
    const got = await overUdp(torture(name));
    if (want.code === "none") {
      assert.deepEqual(got, [], "a response is never answered");
      return;
    }
    // an INVITE's final answer is sent again until the ACK that never comes: count once
    const uniq = [...new Map(got.map((c) => [`${c.code} ${c.reason}`, c])).values()];
    assert.equal(uniq.length, 1, `one answer, got ${JSON.stringify(got)}`);
    assert.equal(got[0].code, want.code, `${name}: ${JSON.stringify(got)}`);
    if (want.code === 400) assert.notEqual(got[0].reason, "Bad Request", "the reason names the fault");
  });

  const tcpWant = want.tcp ?? want.code;
  test(`RFC 4475 ${want.section} ${name} over TCP: ${JSON.stringify(tcpWant)}`, async () => {
    if (want.fresh) {
      await dt.stop();
      await dt.start();
    }
    const got = await overTcp(torture(name));
    if (tcpWant === "none" || tcpWant === "waits" || tcpWant === "dropped") {
      assert.deepEqual(got.codes, []);
      if (tcpWant === "waits") assert.equal(got.closed, false);
    }
    else if (tcpWant === "closed") {
      assert.deepEqual(got.codes, []);
      assert.equal(got.closed, true, "an undecodable stream is closed");
    }
    else {
      const codes = Array.isArray(tcpWant) ? tcpWant : [tcpWant];
      assert.deepEqual(got.codes.map((c) => c.code), codes, JSON.stringify(got));
    }
  });
}

// The reproduction: the framing faults aimed at a real inbound number.
for (const name of ["clerr", "ncl"]) {
  test(`${name} to a bound inbound number is refused, no call starts`, async () => {
    const msg = torture(name).toString("latin1")
      .replace("INVITE sip:user@example.com", `INVITE sip:${NUMBER}@127.0.0.1`);
    const got = await overUdp(Buffer.from(msg, "latin1"), 1500);
    assert.deepEqual([...new Set(got.map((c) => c.code))], [400], JSON.stringify(got));
  });
}

test("a smuggled request behind a negative Content-Length on TCP is never processed", async () => {
  const inner = `OPTIONS sip:${NUMBER}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKsmuggled\r\n` +
    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: smuggled\r\n" +
    "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  const outer = `OPTIONS sip:${NUMBER}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKouter\r\n` +
    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: outer\r\n" +
    `CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: -${inner.length}\r\n\r\n` + inner;
  const got = await overTcp(Buffer.from(outer), 1000);
  assert.deepEqual(got.codes.map((c) => c.code), [400], JSON.stringify(got));
  assert.equal(got.closed, true, "the connection is cut");
});

test("two Content-Length headers that disagree are refused on both transports", async () => {
  const m = "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKdup\r\n" +
    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: dupcl\r\n" +
    "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\nContent-Length: 4\r\n\r\nabcd";
  const u = await overUdp(Buffer.from(m));
  assert.deepEqual(u.map((c) => [c.code, c.reason]), [[400, "Multiple Content-Length"]]);
  const t = await overTcp(Buffer.from(m));
  assert.deepEqual(t.codes.map((c) => [c.code, c.reason]), [[400, "Multiple Content-Length"]]);
});

test("cccd is still alive: OPTIONS answered, a real call answered into its IVR", async () => {
  assert.equal(dt.proc.exitCode, null);
  assert.equal(d.proc.exitCode, null);
  const o = await overUdp(torture("lwsdisp"));
  assert.deepEqual(o.map((c) => c.code), [200]);
  const r = await until(() => {
    const x = spawnSync("sipp", ["-sf", path.join(ROOT, "tests/sip/uac_inbound.xml"),
      "-s", NUMBER, "-i", "127.0.0.1", "-p", "0", "-m", "1", "-timeout", "20s",
      "-timeout_error", "-nostdin", `127.0.0.1:${d.sipPort}`],
    { encoding: "utf8", timeout: 30000 });
    return x.status === 0 ? x : null;
  }, 20000, 1000, "an inbound call to be answered");
  assert.equal(r.status, 0);
});
