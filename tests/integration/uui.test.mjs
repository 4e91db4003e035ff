// UUI up to TCCC's 1024 bytes: carried hex in User-to-User, and an INVITE that grows past
// 1,300 bytes sent over TCP to a UDP trunk whose carrier takes TCP (tcp_for_large, RFC
// 3261 §18.1.1) — a real TCP leg, sipp listening on TCP only; per trunk, what the carrier
// takes (uui = truncate:N, drop, refuse), and the API refusing only what no trunk takes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, startCccd, client, sipp, until, freePort, finished, cdrOf } from "./lib/cccd.mjs";

const SDKAPPID = 1400006001;
let d, api, tcpPeer, udpPeer, tcpDir, udpDir;

const trunk = (name, port, route, more = []) => [`[trunk ${name}]`, "host = 127.0.0.1",
  `port = ${port}`, "options_interval = 0", `route = ${route}`, ...more].join("\n");

// The INVITEs a sipp received, from its -trace_msg log.
function invites(dir) {
  const log = fs.readdirSync(dir).find((f) => f.endsWith("_messages.log"));
  if (!log) return [];
  return fs.readFileSync(path.join(dir, log), "latin1").split(/^-+ *\S.*$/m)
    .filter((m) => /^INVITE /m.test(m));
}
const hex = (s) => Buffer.from(s, "utf8").toString("hex");
const inviteTo = (dir, callee) =>
  until(() => invites(dir).find((m) => m.includes(`INVITE sip:${callee}@`)), 10000, 50,
    `the INVITE to ${callee}`);

before(async () => {
  tcpDir = fs.mkdtempSync(path.join(os.tmpdir(), "uui-tcp-"));
  udpDir = fs.mkdtempSync(path.join(os.tmpdir(), "uui-udp-"));
  const scenario = path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml");
  tcpPeer = await sipp(scenario, { args: ["-t", "t1", "-trace_msg"], cwd: tcpDir });
  udpPeer = await sipp(scenario, { args: ["-trace_msg"], cwd: udpDir });
  d = await startCccd({
    sipLines: [`listen = tcp 127.0.0.1:${await freePort()}`],
    sections: [
      trunk("big", tcpPeer.port, "008613", ["tcp_for_large = yes"]),
      trunk("cut", udpPeer.port, "008614", ["uui = truncate:100"]),
      trunk("none", udpPeer.port, "008615", ["uui = drop"]),
      trunk("no", udpPeer.port, "008616", ["uui = refuse"]),
    ].join("\n") + "\n",
  });
  api = client(d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", "1:autoOutbound",
    "--number", "008601012345678", "--rules", "demo"]), d.endpoint);
});

after(async () => {
  await d?.stop();
  await tcpPeer?.stop();
  await udpPeer?.stop();
  d?.cleanup();
  for (const dir of [tcpDir, udpDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("a 1,000-byte UUI goes whole, hex, over TCP: the INVITE is past 1,300 bytes", async () => {
  const uui = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(33 + (i % 90))).join("");
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613800138000", IVRId: 1,
    UUI: uui });
  assert.equal(r.err, undefined, r.message);
  const inv = await inviteTo(tcpDir, "008613800138000");
  assert.ok(inv.includes(`User-to-User: ${hex(uui)};encoding=hex`), inv.slice(0, 600));
  assert.match(inv, /^Via: SIP\/2\.0\/TCP /m);
  assert.ok(inv.length > 1300, `${inv.length} bytes`);
  const s = await finished(api, SDKAPPID, r.SessionId);
  const cdr = await cdrOf(api, SDKAPPID, r.SessionId);
  assert.equal(cdr.UUI, uui);
  assert.ok(s.EndStatus !== 0, `ended with EndStatus ${s.EndStatus}, an error`);
});

test("uui = truncate:100 sends the first 100 bytes; drop sends none", async () => {
  const uui = "u".repeat(150) + "v".repeat(150);
  const a = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008614800138000", IVRId: 1,
    UUI: uui });
  assert.equal(a.err, undefined, a.message);
  const cut = await inviteTo(udpDir, "008614800138000");
  assert.ok(cut.includes(`User-to-User: ${hex("u".repeat(100))};encoding=hex\r\n`) ||
    cut.includes(`User-to-User: ${hex("u".repeat(100))};encoding=hex\n`), cut.slice(0, 600));
  assert.match(cut, /^Via: SIP\/2\.0\/UDP /m, "small enough for UDP");
  const b = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008615800138000", IVRId: 1,
    UUI: uui });
  assert.equal(b.err, undefined, b.message);
  const none = await inviteTo(udpDir, "008615800138000");
  assert.doesNotMatch(none, /^User-to-User:/mi);
  await finished(api, SDKAPPID, a.SessionId);
  await finished(api, SDKAPPID, b.SessionId);
});

test("the API refuses only what no trunk takes: uui = refuse, and past 1024 bytes", async () => {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008616800138000", IVRId: 1,
    UUI: "crm-42" });
  assert.equal(r.err, "InvalidParameterValue");
  assert.match(r.message, /`UUI`/);
  const ok = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008616800138000", IVRId: 1 });
  assert.equal(ok.err, undefined, ok.message);
  const big = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613800138000", IVRId: 1,
    UUI: "x".repeat(1025) });
  assert.equal(big.err, "InvalidParameterValue");
  assert.match(big.message, /`UUI`/);
  const full = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008614800138001", IVRId: 1,
    UUI: "y".repeat(1024) });
  assert.equal(full.err, undefined, full.message);
  await finished(api, SDKAPPID, ok.SessionId);
  await finished(api, SDKAPPID, full.SessionId);
});
