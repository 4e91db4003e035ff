// Trunk failover through a real cccd: several trunks per number with priority and weight,
// real sipp trunks, and "spy" trunks (a UDP socket that answers nothing and counts the
// INVITEs it gets) to prove that a trunk never saw a call. A call moves on after a 503 (its
// Retry-After then keeps the trunk out for the next call), a 408, a refused TCP connection
// and an INVITE nobody answers (the trunk's trying_timeout_ms, not Timer B's 32 s); it never moves on after 486/603/404/484 or after the phone
// rang (180 then 503), and HangUpCall during the attempts stops them. Equal-priority trunks
// share calls by weight, and a trunk whose peer stops answering OPTIONS is taken out and put
// back when it answers again.
// Every port is one the kernel handed out (freePort); the scenarios run at once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, cdrOf, until, freePort, sleep } from "./lib/cccd.mjs";

const SDKAPPID = 1400016600;
const CALLER = "008675512345678";
const SIP = (n) => path.join(ROOT, "tests/sip", n);
const PEER = ["-timeout", "90s", "-timeout_error"];

// A trunk that never answers an INVITE: the INVITEs it got, Call-ID → dialled number.
// With answerOptions it answers OPTIONS 200, a trunk alive to its health checks.
function spy({ answerOptions = false } = {}) {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const invites = new Map();
    s.on("message", (m, from) => {
      const t = m.toString("latin1");
      const id = /^Call-ID:\s*(\S+)/im.exec(t);
      const to = /^INVITE sip:(\d+)@/.exec(t);
      if (to && id) invites.set(id[1], to[1]);
      if (answerOptions && t.startsWith("OPTIONS ")) {
        const h = (n) => (new RegExp(`^${n}:.*$`, "im").exec(t) || [""])[0];
        s.send(["SIP/2.0 200 OK", h("Via"), h("From"), `${h("To")};tag=spy`, h("Call-ID"),
          h("CSeq"), "Content-Length: 0", "", ""].join("\r\n"), from.port, from.address);
      }
    });
    s.bind(0, "127.0.0.1", () => resolve({ port: s.address().port, invites,
      close: () => new Promise((r) => s.close(r)) }));
  });
}

const trunk = (name, port, route, more = []) => [`[trunk ${name}]`, "host = 127.0.0.1",
  `port = ${port}`, "options_interval = 0", ...[].concat(route).map((r) => `route = ${r}`),
  ...more].join("\n");

let d, api;
const peers = {}, spies = {}, runs = {};
const stops = [];

// CreateIVRSession at most ~9 a second, under the API's 20/s per account and action.
let gate = Promise.resolve();
function create(callee, extra = {}) {
  const mine = gate.then(() => api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: callee,
    IVRId: 11, ...extra }));
  gate = mine.then(() => sleep(110), () => sleep(110));
  return mine;
}

// The record of one session: its CDR once finished, and cccd's log lines about it. Polled
// once a second: a dozen scenarios poll at once, under the API's 20/s per action (a
// refused poll is simply polled again).
async function outcome(r, timeoutMs = 60000) {
  assert.equal(r.err, undefined, `${r.err} ${r.message}`);
  const s = await until(async () => {
    const q = await api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: r.SessionId });
    return q.Session && q.Session.SessionStatus === "finished" ? q.Session : null;
  }, timeoutMs, 1000, `session ${r.SessionId} to finish`);
  const cdr = await until(() => cdrOf(api, SDKAPPID, r.SessionId).catch(() => null), 10000,
    500, "the CDR");
  const lines = d.log.split("\n").filter((l) => l.includes(r.SessionId));
  // the trunks tried, in order: "calling ... via trunk X", or "cannot send the INVITE to
  // trunk X" when the transport fails at once (a refused TCP connect on loopback)
  const via = lines.map((l) => /(?: via|the INVITE to) trunk (\w+)/.exec(l)).filter(Boolean)
    .map((m) => m[1]);
  return { s, cdr, lines, via };
}

// Started in before() and awaited by their tests, so that the slow ones (an INVITE that
// times out after 32 s, OPTIONS that time out) run alongside the rest.
function start(name, fn) {
  runs[name] = fn().then((v) => ({ v }), (e) => ({ e }));
}
async function result(name) {
  const r = await runs[name];
  if (r.e) throw new Error(`${r.e.stack || r.e}\n--- cccd log:\n${d.log.slice(-4000)}`);
  return r.v;
}

before(async () => {
  const uas = (key, scenario, m) => sipp(SIP(scenario), { args: [...(m ? ["-m", String(m)] : []), ...PEER] })
    .then((p) => { peers[key] = p; stops.push(p); });
  await Promise.all([
    uas("a1", "uas_503_retry_after.xml", 1), uas("a2", "uas_answer_wait_bye.xml", 2),
    uas("b1", "uas_408.xml", 1), uas("b2", "uas_busy.xml", 1),
    uas("next", "uas_busy.xml", 2),
    uas("busy", "uas_busy.xml", 1), uas("decline", "uas_decline.xml", 1),
    uas("notfound", "uas_notfound.xml", 1), uas("incomplete", "uas_484.xml", 1),
    uas("rang", "uas_180_503.xml", 1),
    uas("w1", "uas_busy.xml", 0), uas("w2", "uas_busy.xml", 0),
    uas("o1", "uas_options.xml", 0),
  ]);
  spies.silent = await spy({ answerOptions: true });
  spies.never = await spy();
  const closed = await freePort(); // nothing listens there: TCP is refused
  const sections = [
    // 503 + Retry-After, then the next trunk answers
    trunk("a1", peers.a1.port, "008613901", ["priority = 1"]),
    trunk("a2", peers.a2.port, "008613901", ["priority = 2"]),
    // 408, then busy
    trunk("b1", peers.b1.port, "008613902", ["priority = 1"]),
    trunk("b2", peers.b2.port, "008613902", ["priority = 2"]),
    // TCP refused, or no response at all (after trying_timeout_ms, 10 s here so that the
    // HangUpCall case below reaches it first); then busy
    trunk("c1", closed, "008613903", ["transport = tcp", "priority = 1"]),
    trunk("s1", spies.silent.port, ["008613904", "008613912"], ["priority = 1",
      "trying_timeout_ms = 10000"])
      .replace("options_interval = 0", "options_interval = 1"),
    trunk("next", peers.next.port, ["008613903", "008613904"], ["priority = 2"]),
    // the callee's own answers, and a ring before the 503: the spy must see nothing
    trunk("busy", peers.busy.port, "008613905", ["priority = 1"]),
    trunk("decline", peers.decline.port, "008613906", ["priority = 1"]),
    trunk("notfound", peers.notfound.port, "008613907", ["priority = 1"]),
    trunk("incomplete", peers.incomplete.port, "008613908", ["priority = 1"]),
    trunk("rang", peers.rang.port, "008613909", ["priority = 1"]),
    trunk("never", spies.never.port, ["008613905", "008613906", "008613907", "008613908",
      "008613909", "008613912"], ["priority = 100"]),
    // equal priority, weights 3 and 1
    trunk("w1", peers.w1.port, "008613910", ["priority = 1", "weight = 3"]),
    trunk("w2", peers.w2.port, "008613910", ["priority = 1", "weight = 1"]),
    // health checks every second
    trunk("o1", peers.o1.port, "008613911", []).replace("options_interval = 0", "options_interval = 1"),
  ].join("\n");
  d = await startCccd({ sections, sipLines: ["trunk_attempts = 3"] });
  const flow = { ivrId: 11, name: "short", type: "autoOutbound", start: "s", nodes: [
    { id: "s", type: "start", next: "p" },
    { id: "p", type: "prompt", params: { tts: "Goodbye." }, next: "h" },
    { id: "h", type: "hangup" }] };
  fs.writeFileSync(path.join(d.dir, "11.json"), JSON.stringify(flow));
  api = client(d.addTenant(SDKAPPID, { ivrs: [`11:autoOutbound:${d.dir}/11.json`],
    numbers: [CALLER] }), d.endpoint);

  start("503", async () => {
    const first = await outcome(await create("008613901000001"));
    // the second call comes after the first one's 503 took trunk a1 out
    const second = await outcome(await create("008613901000002"));
    return { first, second };
  });
  start("408", async () => outcome(await create("008613902000001")));
  start("tcp", async () => outcome(await create("008613903000001")));
  start("silent", async () => outcome(await create("008613904000001",
    { MaxRingTimeoutSecond: 60 }), 90000));
  for (const [k, n] of [["busy", 5], ["decline", 6], ["notfound", 7], ["incomplete", 8],
    ["rang", 9]]) start(k, async () => outcome(await create(`00861390${n}000001`)));
  start("hangup", async () => {
    const r = await create("008613912000001", { MaxRingTimeoutSecond: 60 });
    await until(() => [...spies.silent.invites.values()].includes("008613912000001"), 10000,
      100, "the first trunk's INVITE");
    const h = await api.HangUpCall({ SdkAppId: SDKAPPID, SessionId: r.SessionId });
    const o = await outcome(r);
    // the first attempt would have failed over 10 s after its INVITE left (trying_timeout_ms)
    await sleep(14000);
    return { h, o, id: r.SessionId };
  });
  start("weights", async () => {
    const made = [], done = [];
    for (let i = 0; i < 40; i++) made.push(await create(`0086139100000${String(i).padStart(2, "0")}`));
    for (const r of made) done.push(await outcome(r));
    return done;
  });
  start("options", async () => {
    await until(() => /trunk o1 is up/.test(d.log), 15000, 100, "trunk o1 up");
    await peers.o1.stop(); // the peer stops answering
    await until(() => /trunk o1 is down: OPTIONS/.test(d.log), 60000, 200, "trunk o1 down");
    const refused = await create("008613911000001");
    const back = await sipp(SIP("uas_options.xml"), { port: peers.o1.port, args: PEER });
    stops.push(back);
    await until(() => (d.log.match(/trunk o1 is up/g) || []).length >= 2, 15000, 100,
      "trunk o1 up again");
    const accepted = await create("008613911000002", { MaxRingTimeoutSecond: 1 });
    return { refused, accepted };
  });
});

after(async () => {
  for (const p of stops) await p.stop();
  for (const s of Object.values(spies)) await s.close();
  await d?.close();
});

test("503 with Retry-After: the next trunk answers, and the first is skipped while out", async () => {
  const { first, second } = await result("503");
  assert.equal(first.cdr.EndStatus, 1, first.lines.join("\n"));
  assert.deepEqual(first.via, ["a1", "a2"]);
  assert.ok(first.lines.some((l) => /trunk a1 failed \(503 Service Unavailable\): trying the next trunk/.test(l)));
  await d.waitLog(/trunk a1: 503 with Retry-After: out of use for 60 s/);
  assert.ok(first.cdr.StartTimestamp <= first.cdr.RingTimestamp);
  assert.ok(first.cdr.AcceptTimestamp > 0);
  assert.equal(second.cdr.EndStatus, 1, second.lines.join("\n"));
  assert.deepEqual(second.via, ["a2"], "trunk a1 is out for its Retry-After");
  assert.equal(await peers.a1.wait(10000), 0, peers.a1.log.slice(-2000));
  assert.equal(await peers.a2.wait(10000), 0, peers.a2.log.slice(-2000));
});

test("408: the next trunk's answer (busy) is the outcome", async () => {
  const r = await result("408");
  assert.deepEqual(r.via, ["b1", "b2"]);
  assert.equal(r.cdr.EndStatus, 206);
  assert.equal(r.cdr.EndStatusString, "busy");
  assert.equal(await peers.b1.wait(10000), 0, peers.b1.log.slice(-2000));
  assert.equal(await peers.b2.wait(10000), 0, peers.b2.log.slice(-2000));
});

test("a refused TCP connection: the next trunk", async () => {
  const r = await result("tcp");
  assert.deepEqual(r.via, ["c1", "next"]);
  assert.equal(r.cdr.EndStatus, 206);
});

test("an INVITE nobody answers (trying_timeout_ms): the next trunk, within the one ring time", async () => {
  const r = await result("silent");
  assert.deepEqual(r.via, ["s1", "next"]);
  const mine = [...spies.silent.invites.values()].filter((n) => n === "008613904000001");
  assert.equal(mine.length, 1, "one INVITE (and its retransmissions)");
  assert.ok(r.lines.some((l) => /trunk s1: no response in 10000 ms/.test(l)), r.lines.join("\n"));
  // the trunk answers its health checks, so the INVITE nobody answered took it out until
  // the next OPTIONS answer put it back
  await d.waitLog(/trunk s1 is down: INVITE: Connection timed out/);
  await until(() => /trunk s1 is down: INVITE[^]*trunk s1 is up/.test(d.log), 10000, 100,
    "trunk s1 back up");
  assert.equal(r.cdr.EndStatus, 206);
  await result("tcp");
  assert.equal(await peers.next.wait(10000), 0, peers.next.log.slice(-2000));
});

for (const [key, status, str] of [["busy", 206, "busy"], ["decline", 203, "userReject"],
  ["notfound", 205, "numberNotExist"], ["incomplete", 215, "numberInvalid"]]) {
  test(`${key}: the callee said no, no other trunk is tried`, async () => {
    const r = await result(key);
    assert.deepEqual(r.via, [key]);
    assert.equal(r.cdr.EndStatus, status);
    assert.equal(r.cdr.EndStatusString, str);
    assert.equal(await peers[key].wait(10000), 0, peers[key].log.slice(-2000));
  });
}

test("503 after 180: no failover, the call fails and the next trunk never sees an INVITE", async () => {
  const r = await result("rang");
  assert.deepEqual(r.via, ["rang"]);
  assert.equal(r.cdr.EndStatus, 208);
  assert.ok(r.cdr.RingTimestamp > 0, "it rang");
  assert.equal(await peers.rang.wait(10000), 0, peers.rang.log.slice(-2000));
});

test("no trunk after a deliberate answer or a ring ever got an INVITE", async () => {
  for (const k of ["busy", "decline", "notfound", "incomplete", "rang"]) await result(k);
  assert.equal(spies.never.invites.size, 0);
});

test("HangUpCall during the attempts: the call ends and no other trunk is tried", async () => {
  const { h, o, id } = await result("hangup");
  assert.equal(h.err, undefined, JSON.stringify(h));
  assert.deepEqual(o.via, ["s1"]);
  assert.equal(o.cdr.EndStatus, 221);
  assert.equal(o.cdr.EndStatusString, "callerCancelWithoutRing");
  assert.ok(![...spies.never.invites.values()].includes("008613912000001"));
  const later = d.log.split("\n").filter((l) => l.includes(id));
  assert.ok(!later.some((l) => /trying the next trunk|via trunk never/.test(l)), later.join("\n"));
});

test("equal priority: calls spread by weight (3 to 1, loosely)", async (t) => {
  const all = await result("weights");
  const first = { w1: 0, w2: 0 };
  for (const r of all) {
    assert.equal(r.via.length, 1, "486 never fails over");
    assert.equal(r.cdr.EndStatus, 206);
    first[r.via[0]]++;
  }
  t.diagnostic(`first trunk of 40 calls: ${JSON.stringify(first)}`);
  assert.equal(first.w1 + first.w2, 40);
  assert.ok(first.w1 > first.w2 && first.w2 > 0, JSON.stringify(first));
});

test("OPTIONS: a trunk whose peer stops answering is taken out, and put back", async () => {
  const { refused, accepted } = await result("options");
  assert.equal(refused.err, "FailedOperation.CallOutFailed", JSON.stringify(refused));
  assert.equal(accepted.err, undefined, JSON.stringify(accepted));
});
