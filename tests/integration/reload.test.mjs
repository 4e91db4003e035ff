// SIGHUP through a real cccd: the config file is changed under it — a trunk's address, the
// log level, a [sip] listen it cannot change without a restart — and a SIGHUP applies what
// can be applied: the next call goes to the trunk's new address while the call already in
// progress stays on the old one (its CANCEL goes there), the log turns to debug, and the
// listen change is named as needing a restart and ignored (the old SIP port still
// answers). A file with errors changes nothing and says why, line by line.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { startCccd, client, until, freePort } from "./lib/cccd.mjs";

const SDKAPPID = 1400016700;
const CALLER = "008675512345678";

// A trunk that rings and never answers: it answers each INVITE 180, each CANCEL 200 (and
// the INVITE 487), and keeps what it got, method and dialled number.
function ringer() {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const got = [];
    s.on("message", (m, from) => {
      const t = m.toString("latin1");
      const h = (n) => (new RegExp(`^${n}:.*$`, "im").exec(t) || [""])[0];
      const reply = (code, tag) => s.send(["SIP/2.0 " + code, h("Via"), h("From"),
        tag ? `${h("To")};tag=ringer` : h("To"), h("Call-ID"), h("CSeq"), "Content-Length: 0",
        "", ""].join("\r\n"), from.port, from.address);
      const method = t.split(" ", 1)[0];
      const to = /^\w+ sip:(\d+)@/.exec(t);
      got.push({ method, number: to ? to[1] : "" });
      if (method === "INVITE") reply("180 Ringing", true);
      else if (method === "CANCEL") {
        reply("200 OK", true);
        const inv = t.replace(/^CSeq:\s*(\d+) CANCEL/im, "CSeq: $1 INVITE");
        const hi = (n) => (new RegExp(`^${n}:.*$`, "im").exec(inv) || [""])[0];
        s.send(["SIP/2.0 487 Request Terminated", hi("Via"), hi("From"), `${hi("To")};tag=ringer`,
          hi("Call-ID"), hi("CSeq"), "Content-Length: 0", "", ""].join("\r\n"), from.port, from.address);
      }
    });
    s.bind(0, "127.0.0.1", () => resolve({ port: s.address().port, got,
      invites: (n) => got.filter((g) => g.method === "INVITE" && g.number === n).length,
      cancels: () => got.filter((g) => g.method === "CANCEL").length,
      close: () => new Promise((r) => s.close(r)) }));
  });
}

// An OPTIONS to cccd's SIP port over UDP: resolves true when it answers 200.
function optionsOk(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const t = setTimeout(() => { s.close(); resolve(false); }, 2000);
    s.on("message", (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString("latin1").startsWith("SIP/2.0 200"));
    });
    s.bind(0, "127.0.0.1", () => {
      const me = s.address().port;
      s.send([`OPTIONS sip:cccd@127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK${Date.now()}`, "Max-Forwards: 70",
        `From: <sip:probe@127.0.0.1>;tag=p1`, `To: <sip:cccd@127.0.0.1>`,
        `Call-ID: probe-${Date.now()}@127.0.0.1`, "CSeq: 1 OPTIONS", "Content-Length: 0", "", ""]
        .join("\r\n"), port, "127.0.0.1");
    });
  });
}

let d, api, oldTrunk, newTrunk;

const trunkSection = (port, name = "main", route = "*") => [`[trunk ${name}]`,
  "host = 127.0.0.1", `port = ${port}`, `route = ${route}`, "options_interval = 0"].join("\n");

before(async () => {
  oldTrunk = await ringer();
  newTrunk = await ringer();
  // "spare" carries numbers no test dials: it is the trunk a reload leaves unchanged
  d = await startCccd({ sections: [trunkSection(9, "spare", "0099"),
    trunkSection(oldTrunk.port)].join("\n") });
  const flow = { ivrId: 11, name: "short", type: "autoOutbound", start: "s", nodes: [
    { id: "s", type: "start", next: "h" }, { id: "h", type: "hangup" }] };
  fs.writeFileSync(path.join(d.dir, "11.json"), JSON.stringify(flow));
  api = client(d.addTenant(SDKAPPID, { ivrs: [`11:autoOutbound:${d.dir}/11.json`],
    numbers: [CALLER] }), d.endpoint);
});

after(async () => {
  await d?.close();
  await oldTrunk?.close();
  await newTrunk?.close();
});

async function create(callee) {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: callee, IVRId: 11,
    MaxRingTimeoutSecond: 60 });
  assert.equal(r.err, undefined, `${r.err} ${r.message}`);
  return r.SessionId;
}

// Rewrites the config with `edit` and sends SIGHUP; resolves once cccd says the reload
// is over (done, or refused), with the log written since.
async function reload(edit, done = /reload done|nothing changed/) {
  fs.writeFileSync(d.confPath, edit(fs.readFileSync(d.confPath, "utf8")));
  const from = d.log.length;
  d.proc.kill("SIGHUP");
  await until(() => done.test(d.log.slice(from)), 10000, 50, "the reload to end");
  return d.log.slice(from);
}

test("SIGHUP: trunks, log level and push apply; a listen change is named and ignored", async () => {
  const first = await create("008613900000001");
  await until(() => oldTrunk.invites("008613900000001") === 1, 10000, 50, "the first call's INVITE");
  assert.doesNotMatch(d.log, / debug /, "the log starts at info");

  const oldSip = d.sipPort, otherSip = await freePort();
  const log = await reload((c) => c
    .replace("level = info", "level = debug")
    .replace(`port = ${oldTrunk.port}`, `port = ${newTrunk.port}`)
    .replace(`listen = udp 127.0.0.1:${oldSip}`, `listen = udp 127.0.0.1:${otherSip}`)
    .replace("poll_ms = 100", "poll_ms = 200") + trunkSection(newTrunk.port, "extra", "0098") + "\n");
  assert.match(log, /reload: \[sip\] listen changed: needs a restart/);
  assert.match(log, /reload: \[log\] level is now debug/);
  assert.match(log, /reload: trunk main changed/);
  assert.match(log, /reload: trunk extra added/);
  assert.match(log, /reload: trunks: 1 kept, 1 added, 1 changed, 0 removed/);
  assert.match(log, /reload: \[push\] settings applied/);
  assert.ok(await optionsOk(oldSip), "the old SIP port still answers");

  // the next call goes to the trunk's new address, and the debug log shows its SIP
  const second = await create("008613900000002");
  await until(() => newTrunk.invites("008613900000002") === 1, 10000, 50, "the second call's INVITE");
  assert.equal(oldTrunk.invites("008613900000002"), 0, "the old address saw nothing of it");
  await d.waitLog(/ debug sip: send UDP [^\n]*\nINVITE sip:008613900000002@/, "SIP at debug level");

  // the call in progress kept its trunk: its CANCEL goes to the old address
  assert.equal((await api.HangUpCall({ SdkAppId: SDKAPPID, SessionId: first })).err, undefined);
  await until(() => oldTrunk.cancels() === 1, 10000, 50, "the first call's CANCEL");
  assert.equal(newTrunk.cancels(), 0);
  assert.equal((await api.HangUpCall({ SdkAppId: SDKAPPID, SessionId: second })).err, undefined);
  await until(() => newTrunk.cancels() === 1, 10000, 50, "the second call's CANCEL");
});

test("SIGHUP with errors in the file: each named with its line, nothing changed", async (t) => {
  const before = fs.readFileSync(d.confPath, "utf8");
  t.after(() => fs.writeFileSync(d.confPath, before)); // the next test starts from it
  const log = await reload((c) => c.replace("level = debug", "level = loud")
    .replace(`port = ${newTrunk.port}`, "port = 0") + "[nosuch]\nx = 1\n");
  const lines = before.split("\n");
  const at = (prefix) => lines.findIndex((l) => l.startsWith(prefix)) + 1;
  assert.match(log, new RegExp(`reload: .*cccd\\.conf:${at("level =")}: 'level' must be one of`));
  assert.match(log, new RegExp(`reload: .*cccd\\.conf:${at(`port = ${newTrunk.port}`)}: 'port' must be`));
  assert.match(log, /reload: .*cccd\.conf:\d+: unknown section \[nosuch\]/);
  assert.match(log, /has 3 errors: nothing changed/);
  // still the new trunk, still debug
  const third = await create("008613900000003");
  await until(() => newTrunk.invites("008613900000003") === 1, 10000, 50, "the third call's INVITE");
  assert.equal((await api.HangUpCall({ SdkAppId: SDKAPPID, SessionId: third })).err, undefined);
});

test("SIGHUP: a trunk removed; the unchanged ones kept", async () => {
  const log = await reload((c) => c.replace(/\[trunk extra\][^[]*/, "")
    .replace(/listen = udp 127\.0\.0\.1:\d+/, `listen = udp 127.0.0.1:${d.sipPort}`));
  assert.match(log, /reload: trunk extra removed/);
  assert.match(log, /reload: trunks: 2 kept, 0 added, 0 changed, 1 removed/);
  assert.doesNotMatch(log, /needs a restart/, "a removed trunk needs no restart");
});
