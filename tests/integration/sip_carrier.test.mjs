// SIP as carriers speak it, through a real cccd and sipp carriers: session timers (RFC 4028)
// refreshed by the carrier with UPDATE or re-INVITE for 20 intervals (an hour of 90 s
// refreshes, time-compressed to a 6 s interval), a carrier that stops refreshing (cccd hangs
// up at expiry with a Reason), cccd as the refresher (UPDATE, or re-INVITE when the carrier
// does not allow UPDATE), 422 both ways, an UPDATE with a new offer, Reason headers read from
// the carrier's BYE, tel: Request-URIs, an anonymous caller with P-Asserted-Identity, and a
// trunk that sends user=phone, P-Asserted-Identity and Privacy: id.
// Every port is one the kernel handed out; the scenarios run at once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, cdrOf, until, sleep } from "./lib/cccd.mjs";

const SDKAPPID = 1400016700;
const CALLER = "008675512345678";
const INBOUND = "008675516700000";
const SIP = (n) => path.join(ROOT, "tests/sip", n);
const PEER = ["-timeout", "110s", "-timeout_error"];

// key → [scenario, dialled prefix, more trunk lines]
const OUT = {
  update: ["uas_timer_update.xml", "0086139201"],
  reinvite: ["uas_timer_reinvite.xml", "0086139202"],
  silent: ["uas_timer_silent.xml", "0086139203"],
  cccd: ["uas_timer_cccd.xml", "0086139204"],
  cccdReinvite: ["uas_timer_cccd_reinvite.xml", "0086139205"],
  t422: ["uas_timer_422.xml", "0086139206"],
  privacy: ["uas_privacy.xml", "0086139207", ["user_phone = true", "anonymous = true"]],
};

let d, api;
const peers = {}, runs = {}, stops = [];

const trunk = (name, port, route, more = []) => [`[trunk ${name}]`, "host = 127.0.0.1",
  `port = ${port}`, "options_interval = 0", `route = ${route}`, ...more].join("\n");

async function outcome(r, timeoutMs = 110000) {
  assert.equal(r.err, undefined, `${r.err} ${r.message}`);
  const s = await until(async () => {
    const q = await api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: r.SessionId });
    return q.Session && q.Session.SessionStatus === "finished" ? q.Session : null;
  }, timeoutMs, 1000, `session ${r.SessionId} to finish`);
  const cdr = await until(() => cdrOf(api, SDKAPPID, r.SessionId).catch(() => null), 10000,
    500, "the CDR");
  const lines = d.log.split("\n").filter((l) => l.includes(r.SessionId));
  return { s, cdr, lines };
}

function start(name, fn) {
  runs[name] = fn().then((v) => ({ v }), (e) => ({ e }));
}
async function result(name) {
  const r = await runs[name];
  if (r.e) throw new Error(`${r.e.stack || r.e}\n--- cccd log:\n${d.log.slice(-6000)}`);
  return r.v;
}

before(async () => {
  // the 422 carrier sees two calls: libre 1.1.0 sends the retry with a new Call-ID
  await Promise.all(Object.entries(OUT).map(([k, [scenario]]) =>
    sipp(SIP(scenario), { args: ["-m", k === "t422" ? "2" : "1", ...PEER] }).then((p) => { peers[k] = p; stops.push(p); })));
  const sections = Object.entries(OUT).map(([k, [, route, more]]) =>
    trunk(k, peers[k].port, route, more)).join("\n");
  d = await startCccd({ sections, rtpTimeoutMs: 0,
    sipLines: ["session_expires = 6", "min_se = 4", "trunk_attempts = 1"] });
  // Holds the line: a menu nobody answers, 10 × 30 s, longer than any scenario here.
  const hold = { ivrId: 11, name: "hold", type: "autoOutbound", start: "s", nodes: [
    { id: "s", type: "start", next: "m" },
    { id: "m", type: "menu", params: { prompt: { tts: "Please hold." }, timeoutMs: 30000,
      retries: 9, keys: { 1: { next: "h" } } }, onTimeout: "h", onInvalid: "h" },
    { id: "h", type: "hangup" }] };
  const inbound = { ...hold, ivrId: 12, name: "inbound", type: "inbound" };
  fs.writeFileSync(path.join(d.dir, "11.json"), JSON.stringify(hold));
  fs.writeFileSync(path.join(d.dir, "12.json"), JSON.stringify(inbound));
  api = client(d.addTenant(SDKAPPID, { ivrs: [`11:autoOutbound:${d.dir}/11.json`,
    `12:inbound:${d.dir}/12.json`], numbers: [CALLER] }), d.endpoint);
  d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(SDKAPPID),
    "--number", INBOUND, "--outbound", "no", "--inbound-ivr", "12"]);

  let gate = Promise.resolve();
  for (const [k, [, prefix]] of Object.entries(OUT)) {
    const created = gate.then(() => api.CreateIVRSession({ SdkAppId: SDKAPPID,
      Callee: `${prefix}00001`, IVRId: 11 }));
    gate = created.then(() => sleep(120), () => sleep(120));
    start(k, async () => {
      const o = await outcome(await created);
      return { ...o, sipp: await peers[k].wait(30000), log: peers[k].log };
    });
  }
  for (const [k, scenario, service] of [["in422", "uac_timer_422.xml", INBOUND],
    ["tel", "uac_tel_anonymous.xml", `+${INBOUND.slice(2)}`]]) {
    start(k, async () => {
      await sleep(6000); // cccd reads the inbound numbers every 5 s
      const p = await sipp(SIP(scenario), { args: ["127.0.0.1:" + d.sipPort, "-s", service,
        "-m", "1", ...PEER] });
      stops.push(p);
      return { sipp: await p.wait(60000), log: p.log };
    });
  }
});

after(async () => {
  for (const p of stops) await p.stop();
  await d?.close();
});

const peerOk = (r) => assert.equal(r.sipp, 0, `sipp failed:\n${r.log.slice(-3000)}\n` +
  `--- cccd:\n${d.log.slice(-4000)}`);

test("the carrier refreshes with UPDATE every third of an interval, 20 times: the call stays up", async () => {
  const r = await result("update");
  peerOk(r);
  assert.equal(r.cdr.EndStatus, 1, r.lines.join("\n"));
  assert.equal(r.s.HungUpSide ?? r.cdr.HungUpSide, "user", r.lines.join("\n"));
  assert.ok(r.lines.some((l) => /session timer 6 s, refreshed by the peer/.test(l)), r.lines.join("\n"));
  assert.ok(r.lines.some((l) => /BYE from the peer: Q\.850 cause 16 \(Normal call clearing\)/.test(l)),
    r.lines.join("\n"));
});

test("the carrier refreshes with re-INVITE 20 times: the call stays up", async () => {
  const r = await result("reinvite");
  peerOk(r);
  assert.equal(r.cdr.EndStatus, 1, r.lines.join("\n"));
  assert.ok(r.lines.some((l) => /ended 1 .*BYE from the peer/.test(l)), r.lines.join("\n"));
});

test("the carrier stops refreshing: cccd sends BYE with a Reason before the interval ends", async () => {
  const r = await result("silent");
  peerOk(r);
  assert.equal(r.cdr.EndStatus, 1, r.lines.join("\n"));
  assert.ok(r.lines.some((l) => /ended 1 .*\(session timer expired\), hung up by system/.test(l)),
    r.lines.join("\n"));
});

test("cccd is the refresher: UPDATE when the carrier allows it", async () => {
  peerOk(await result("cccd"));
});

test("cccd is the refresher: re-INVITE when the carrier does not allow UPDATE", async () => {
  peerOk(await result("cccdReinvite"));
});

test("a carrier's 422: cccd calls again asking its Min-SE", async () => {
  const r = await result("t422");
  peerOk(r);
  assert.equal(r.cdr.EndStatus, 1, r.lines.join("\n"));
  assert.ok(r.lines.some((l) => /422, calling again with Session-Expires 8/.test(l)), r.lines.join("\n"));
});

test("a trunk with user_phone and anonymous: user=phone, anonymous From, Privacy: id, P-Asserted-Identity", async () => {
  const r = await result("privacy");
  peerOk(r);
  assert.equal(r.cdr.EndStatus, 206, r.lines.join("\n"));
});

test("an inbound INVITE below min_se gets 422 with Min-SE; the retry is answered, refreshed by UPDATE with a new offer", async () => {
  const r = await result("in422");
  peerOk(r);
  await d.waitLog(/Session-Expires below \[sip\] min_se 4: 422/);
  await d.waitLog(/BYE from the peer: Q\.850 cause 31 \(Normal, unspecified\)/);
});

test("an inbound INVITE to tel:+NUMBER from an anonymous caller: routed by number, caller from P-Asserted-Identity", async () => {
  const r = await result("tel");
  peerOk(r);
  await d.waitLog(/inbound call from '\+8613800001111' \(withheld\) to \+8675516700000/);
});
