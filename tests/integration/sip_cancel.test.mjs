// cccd's CANCEL carries a Reason (RFC 3326) that says why it gave up — a ring timeout
// (Q.850 19 once the phone rang) or cccd hanging up a ringing call (Q.850 16) — and it is
// the only CANCEL: built by cccd from the INVITE as sent (same branch, From, To, Call-ID,
// CSeq number, Route), while libre's INVITE transaction still takes the 487 and ACKs it.
// A callee that answers across the CANCEL gets an ACK and a BYE with the same Reason.
// Each sipp carrier logs its messages (-trace_msg); the test reads the CANCEL there.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, until, sleep } from "./lib/cccd.mjs";

const SDKAPPID = 1400016800;
const CALLER = "008675512345678";
const SIP = (n) => path.join(ROOT, "tests/sip", n);

// key → [scenario, callee prefix]
const PEERS = {
  timeout: ["uas_noanswer.xml", "0086139301"],
  hangup: ["uas_noanswer.xml", "0086139302"],
  race: ["uas_race.xml", "0086139303"],
};

let d, api, dir;
const peers = {};

// sipp's -trace_msg log: each message with its direction as sipp saw it.
function sippMessages(file) {
  const out = [];
  for (const block of fs.readFileSync(file, "utf8").split(/^-{20,}.*$/m)) {
    const m = /^\s*UDP message (sent|received)[^\n]*\n\s*\n([\s\S]*)$/m.exec(block);
    if (m) out.push({ sent: m[1] === "sent", msg: m[2].replace(/^\s+/, "") });
  }
  return out;
}

const header = (msg, name) => {
  const m = new RegExp(`^${name}:[ \\t]*([^\\r\\n]*)`, "im").exec(msg);
  return m ? m[1].trim() : null;
};
const method = (msg) => msg.split(/\r?\n/)[0].split(" ")[0];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-cancel-"));
  for (const [k, [scenario]] of Object.entries(PEERS)) {
    peers[k] = await sipp(SIP(scenario), { args: ["-m", "1", "-timeout", "60s",
      "-timeout_error", "-trace_msg", "-message_file", path.join(dir, `${k}.msg`)] });
  }
  const sections = Object.entries(PEERS).map(([k, [, prefix]]) => [`[trunk ${k}]`,
    "host = 127.0.0.1", `port = ${peers[k].port}`, "options_interval = 0",
    `route = ${prefix}`].join("\n")).join("\n");
  d = await startCccd({ sections, sipLines: ["trunk_attempts = 1"] });
  const flow = { ivrId: 11, name: "short", type: "autoOutbound", start: "s", nodes: [
    { id: "s", type: "start", next: "p" },
    { id: "p", type: "prompt", params: { tts: "Goodbye." }, next: "h" },
    { id: "h", type: "hangup" }] };
  fs.writeFileSync(path.join(d.dir, "11.json"), JSON.stringify(flow));
  api = client(d.addTenant(SDKAPPID, { ivrs: [`11:autoOutbound:${d.dir}/11.json`],
    numbers: [CALLER] }), d.endpoint);
});

after(async () => {
  for (const p of Object.values(peers)) await p.stop();
  await d?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Places a call to peer k; `hangup`: HangUpCall once it rings. The session's record and
// the peer's messages once the peer's scenario is over.
async function place(k, { maxRing, hangup } = {}) {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: `${PEERS[k][1]}00001`,
    IVRId: 11, ...(maxRing ? { MaxRingTimeoutSecond: maxRing } : {}) });
  assert.equal(r.err, undefined, `${r.err} ${r.message}`);
  if (hangup) {
    await until(async () => {
      const s = await api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: r.SessionId });
      return s.Session && s.Session.RingTimestamp > 0;
    }, 10000, 100, "the call to ring");
    await sleep(300);
    const h = await api.HangUpCall({ SdkAppId: SDKAPPID, SessionId: r.SessionId });
    assert.equal(h.err, undefined, `${h.err} ${h.message}`);
  }
  const s = await finished(api, SDKAPPID, r.SessionId, 40000);
  const cdr = await until(() => cdrOf(api, SDKAPPID, r.SessionId), 5000, 100, "the CDR");
  const code = await peers[k].wait(40000);
  assert.equal(code, 0, `sipp ${k} failed:\n${peers[k].log.slice(-3000)}\n--- cccd:\n` +
    d.log.slice(-4000));
  return { s, cdr, msgs: sippMessages(path.join(dir, `${k}.msg`)) };
}

// The one CANCEL the peer received names the INVITE exactly (RFC 3261 §9.1).
function checkCancel(msgs, reason) {
  const received = msgs.filter((m) => !m.sent);
  const invite = received.find((m) => method(m.msg) === "INVITE");
  const cancels = received.filter((m) => method(m.msg) === "CANCEL");
  assert.ok(invite, "the peer got the INVITE");
  assert.equal(cancels.length, 1, "one CANCEL, cccd's (libre sent none of its own)");
  const c = cancels[0].msg;
  assert.equal(c.split(/\r?\n/)[0].replace(/^CANCEL /, ""),
    invite.msg.split(/\r?\n/)[0].replace(/^INVITE /, ""), "the same Request-URI");
  for (const h of ["Via", "From", "To", "Call-ID"])
    assert.equal(header(c, h), header(invite.msg, h), `the INVITE's ${h}`);
  assert.equal(header(c, "CSeq"), header(invite.msg, "CSeq").replace("INVITE", "CANCEL"));
  assert.equal(header(c, "Reason"), reason);
  return c;
}

test("a ring timeout is cancelled with Reason Q.850 19; the 487 is ACKed", async () => {
  const r = await place("timeout", { maxRing: 2 });
  assert.equal(r.cdr.EndStatus, 202, JSON.stringify(r.cdr));
  checkCancel(r.msgs, 'Q.850;cause=19;text="No answer from user (user alerted)"');
  assert.ok(r.msgs.some((m) => !m.sent && method(m.msg) === "ACK"), "the 487 was ACKed");
});

test("HangUpCall while ringing cancels with Reason Q.850 16", async () => {
  const r = await place("hangup", { hangup: true });
  checkCancel(r.msgs, 'Q.850;cause=16;text="Normal call clearing"');
  assert.ok(r.msgs.some((m) => !m.sent && method(m.msg) === "ACK"), "the 487 was ACKed");
});

test("an answer that crosses the CANCEL is ACKed and ended with a BYE with the same Reason",
  async () => {
    const r = await place("race", { hangup: true });
    checkCancel(r.msgs, 'Q.850;cause=16;text="Normal call clearing"');
    const bye = r.msgs.find((m) => !m.sent && method(m.msg) === "BYE");
    assert.ok(bye, "cccd sent BYE");
    assert.equal(header(bye.msg, "Reason"), 'Q.850;cause=16;text="Normal call clearing"');
    await d.waitLog(/answered as cccd cancelled it: hanging up/);
  });
