// Inbound calls: an INVITE to a number bound to an inbound IVR is answered into that IVR
// (a real sipp caller), and its record says so; an unknown number is refused with 404;
// a number bound with `ccc admin number-set` works without a restart; calls above
// [sip] inbound_cps are refused with 503 and Retry-After; numbers of instances in other
// countries (default_cc 1, 39) are read as their country reads them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, until, sleep, demoRules } from "./lib/cccd.mjs";

const SDKAPPID = 1400003000;
const NUMBER = "008675587654321";
let d, api;

function call(scenario, number) {
  return spawnSync("sipp", ["-sf", path.join(ROOT, "tests/sip", scenario), "-s", number,
    "-i", "127.0.0.1", "-p", "0", "-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin",
    `127.0.0.1:${d.sipPort}`], { encoding: "utf8", timeout: 30000 });
}

before(async () => {
  d = await startCccd();
  const flow = {
    ivrId: 77, name: "inbound line", type: "inbound", start: "start",
    nodes: [
      { id: "start", type: "start", next: "hello" },
      { id: "hello", type: "prompt", label: "welcome",
        params: { tts: "Welcome to the support line. Please hold while we look at your call.",
          plays: 10 }, next: "bye" },
      { id: "bye", type: "hangup" },
    ],
  };
  fs.writeFileSync(path.join(d.dir, "77.json"), JSON.stringify(flow));
  api = client(d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", `77:inbound:${d.dir}/77.json`,
    "--rules", "demo"]), d.endpoint);
});

after(async () => {
  await d?.stop();
  d?.cleanup();
});

test("an unknown number gets 404", () => {
  const r = call("uac_unknown.xml", "008675500000000");
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("a bound number is answered into its inbound IVR, without a restart", async () => {
  d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(SDKAPPID),
    "--number", NUMBER, "--outbound", "no", "--inbound-ivr", "77"]);
  // The inbound table is re-read every 5 s.
  const r = await until(() => {
    const x = call("uac_inbound.xml", "+8675587654321");
    return x.status === 0 ? x : null;
  }, 15000, 1000, "the number to answer");
  assert.equal(r.status, 0);

  const now = Math.floor(Date.now() / 1000);
  const cdr = await until(async () => {
    const l = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 600,
      EndTimeStamp: now + 60, PageSize: 10, PageNumber: 0 });
    return l.TotalCount >= 1 ? l.TelCdrList[0] : null;
  }, 10000, 200, "the inbound call's record");
  assert.equal(cdr.Direction, 0);
  assert.equal(cdr.CallType, 2);
  assert.equal(cdr.Callee, NUMBER);
  assert.equal(cdr.Caller, "008613800000000");
  assert.equal(cdr.UUI, "hello");
  assert.equal(cdr.EndStatus, 102, "the caller hung up during the IVR");
  assert.equal(cdr.EndStatusString, "ivrGiveUp");
  assert.equal(cdr.HungUpSide, "user");
  assert.ok(cdr.AcceptTimestamp > 0);
});

function callFrom(caller, number) {
  return spawnSync("sipp", ["-sf", path.join(ROOT, "tests/sip/uac_inbound_from.xml"),
    "-s", number, "-key", "caller", caller, "-i", "127.0.0.1", "-p", "0", "-m", "1",
    "-timeout", "20s", "-timeout_error", "-nostdin", `127.0.0.1:${d.sipPort}`],
  { encoding: "utf8", timeout: 30000 });
}

// Instances in NANP (default_cc 1) and Italy (39, whose numbers keep their leading 0) on
// the same cccd as the Chinese one: the dialled number and the caller, as the trunk gives
// them (national forms), are read in the instance's country, and the record shows them
// in the 00-form TCCC shows (Caller 0014155550123, not a Chinese reading of the digits).
test("an OPTIONS inside a live call is answered 200, one for a dialog cccd lacks 481", () => {
  // What a SIP edge's dialog keep-alive meets (docs/cluster.md): 481 makes Kamailio end
  // the call of a node that lost it.
  const r = call("uac_inbound_options.xml", NUMBER);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("inbound numbers are read in the instance's country (NANP, Italy)", async () => {
  const cases = [
    { sdk: 1400003010, cc: "1", number: "0012125550100", dial: "2125550100",
      callers: [["4155550123", "0014155550123"], ["+442079460000", "00442079460000"]] },
    { sdk: 1400003011, cc: "39", number: "00390612345678", dial: "0612345678",
      callers: [["0298765432", "00390298765432"], ["3471234567", "00393471234567"]] },
  ];
  for (const c of cases) {
    c.api = client(d.tenant(["--sdkappid", String(c.sdk), "--ivr", `77:inbound:${d.dir}/77.json`,
      "--rules", demoRules(d.dir, { default_cc: c.cc })]), d.endpoint);
    d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(c.sdk),
      "--number", c.number, "--outbound", "no", "--inbound-ivr", "77"]);
  }
  const since = Math.floor(Date.now() / 1000) - 5;
  for (const c of cases) {
    let first = true;
    for (const [caller] of c.callers) {
      if (first) { // the inbound table is re-read every 5 s
        await until(() => callFrom(caller, c.dial).status === 0, 15000, 1000,
          `instance ${c.cc}'s number to answer`);
        first = false;
      } else {
        const r = callFrom(caller, c.dial);
        assert.equal(r.status, 0, r.stdout + r.stderr);
      }
    }
    const list = await until(async () => {
      const l = await c.api.DescribeTelCdr({ SdkAppId: c.sdk, StartTimeStamp: since,
        EndTimeStamp: since + 600, PageSize: 10, PageNumber: 0 });
      return l.TotalCount >= c.callers.length ? l.TelCdrList : null;
    }, 10000, 200, `instance ${c.cc}'s records`);
    for (const [, want] of c.callers) {
      const cdr = list.find((x) => x.Caller === want);
      assert.ok(cdr, `no record with Caller ${want}: ${JSON.stringify(list.map((x) => x.Caller))}`);
      assert.equal(cdr.Callee, c.number);
      assert.equal(cdr.Direction, 0);
    }
  }
  // The same national digits mean nothing to the Chinese instance: 404, not its number.
  const r = call("uac_unknown.xml", "2125550101");
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

// A trunk sending more new calls than [sip] inbound_cps allows: the excess is refused at
// once with a stateless 503 and Retry-After (a second's worth passes in a burst), the
// admitted calls are answered, and after a second new calls pass again.
test("inbound calls above inbound_cps get 503 with Retry-After", async () => {
  const CPS = 5, BURST = 30, SDK = 1400003001, NUM = "008675587650000";
  const d2 = await startCccd({ sipLines: [`inbound_cps = ${CPS}`] });
  const sock = dgram.createSocket("udp4");
  await new Promise((r) => sock.bind(0, "127.0.0.1", r));
  const lport = sock.address().port;
  const finals = new Map(); // Call-ID -> {code, retryAfter, to}
  const send = (text) => sock.send(Buffer.from(text), d2.sipPort, "127.0.0.1");
  const hdr = (m, h) => (m.match(new RegExp(`^${h}:\\s*(.*)$`, "im")) || [])[1]?.trim();
  sock.on("message", (b) => {
    const m = b.toString();
    if (m.startsWith("BYE ") || m.startsWith("OPTIONS ")) { // cccd ending an admitted call
      send(["SIP/2.0 200 OK", `Via: ${hdr(m, "Via")}`, `From: ${hdr(m, "From")}`,
        `To: ${hdr(m, "To")}`, `Call-ID: ${hdr(m, "Call-ID")}`, `CSeq: ${hdr(m, "CSeq")}`,
        "Content-Length: 0", "", ""].join("\r\n"));
      return;
    }
    const code = Number(m.split(" ")[1]);
    if (!m.startsWith("SIP/2.0") || code < 180 || !/INVITE/.test(hdr(m, "CSeq"))) return;
    const id = hdr(m, "Call-ID");
    if (!finals.has(id) || code >= 200)
      finals.set(id, { code, retryAfter: hdr(m, "Retry-After"), to: hdr(m, "To") });
    if (code === 200) // ACK, then the call is up until cccd stops
      send([`ACK sip:${NUM}@127.0.0.1:${d2.sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK${crypto.randomBytes(6).toString("hex")}`,
        `From: <sip:008613800000000@127.0.0.1:${lport}>;tag=t${id}`, `To: ${hdr(m, "To")}`,
        `Call-ID: ${id}`, "CSeq: 1 ACK", "Max-Forwards: 70", "Content-Length: 0", "", ""].join("\r\n"));
  });
  const branches = new Map(); // Call-ID -> the Via branch of its INVITE
  const invite = (id) => {
    if (!branches.has(id)) branches.set(id, `z9hG4bK${crypto.randomBytes(6).toString("hex")}`);
    const sdp = ["v=0", "o=t 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
      "m=audio 9 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", ""].join("\r\n");
    send([`INVITE sip:${NUM}@127.0.0.1:${d2.sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=${branches.get(id)}`,
      `From: <sip:008613800000000@127.0.0.1:${lport}>;tag=t${id}`, `To: <sip:${NUM}@127.0.0.1>`,
      `Call-ID: ${id}`, "CSeq: 1 INVITE", `Contact: <sip:t@127.0.0.1:${lport}>`, "Max-Forwards: 70",
      "Content-Type: application/sdp", `Content-Length: ${Buffer.byteLength(sdp)}`, "", sdp].join("\r\n"));
  };
  try {
    fs.writeFileSync(path.join(d2.dir, "77.json"), fs.readFileSync(path.join(d.dir, "77.json")));
    d2.tenant(["--sdkappid", String(SDK), "--ivr", `77:inbound:${d2.dir}/77.json`, "--rules", "demo"]);
    d2.ccc(["admin", "--config", d2.confPath, "number-set", "--sdkappid", String(SDK),
      "--number", NUM, "--outbound", "no", "--inbound-ivr", "77"]);
    // The inbound table is re-read every 5 s: one call a second until the number answers.
    let n = 0;
    await until(() => {
      const id = `ready-${n++}`;
      invite(id);
      return sleep(300).then(() => [180, 200].includes(finals.get(id)?.code));
    }, 15000, 700, "the number to answer");
    await sleep(1500); // the bucket fills up again

    for (let i = 0; i < BURST; i++) invite(`burst-${i}`);
    const ids = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
    await until(() => ids.every((id) => finals.has(id)), 5000, 50, "an answer to every INVITE");
    const refused = ids.filter((id) => finals.get(id).code === 503);
    const admitted = ids.filter((id) => [180, 200].includes(finals.get(id).code));
    assert.equal(refused.length + admitted.length, BURST, JSON.stringify([...finals]));
    assert.ok(admitted.length >= CPS && admitted.length <= CPS + 2, `admitted ${admitted.length}`);
    for (const id of refused) assert.equal(finals.get(id).retryAfter, "1");
    await d2.waitLog(/inbound calls above \[sip\] inbound_cps \(5\/s\): \d+ refused with 503/);

    // A second later the bucket has refilled: new calls pass again.
    await sleep(1200);
    invite("after");
    await until(() => finals.has("after"), 3000, 50, "an answer after the pause");
    assert.ok([180, 200].includes(finals.get("after").code), `got ${finals.get("after").code}`);

    // The refusal is stateless (in a flood it must cost less than an answer: no
    // transaction, no timers), so a refused INVITE sent again, as after a lost 503, is
    // judged again and now passes; a transaction would have repeated the 503.
    finals.delete(refused[0]);
    invite(refused[0]);
    await until(() => finals.has(refused[0]), 3000, 50, "an answer to the INVITE sent again");
    assert.ok([180, 200].includes(finals.get(refused[0]).code),
      `got ${finals.get(refused[0]).code}`);
  } finally {
    sock.close();
    await d2.close();
  }
});
