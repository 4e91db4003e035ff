// NAT: cccd on a private address behind a 1:1 NAT (iptables SNAT/DNAT in a router
// namespace) calls a phone that sits behind a NAT of its own, and takes a call from it. cccd must advertise its
// public address (Contact, SDP c=/o=), send its audio to where the phone's RTP really comes
// from (symmetric RTP), and not let an attacker who sends RTP first take the stream.
//
//   this namespace (cccd)         router namespace             peer namespace
//   10.213.R.2 ── veth ── 10.213.R.1 | 198.18.R.1 ── veth ── 198.18.R.2 phone (sipp + RTP)
//                         1:1 NAT 198.19.R.10 ↔ 10.213.R.2      198.18.R.3 attacker
//
// The phone announces 10.214.R.7 (its private address, a blackhole in the router) in its
// SDP. The namespaces and veths get names unique to this run and are deleted afterwards,
// also when a test fails. Needs root (ip netns, iptables): skipped otherwise.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, until, freePort } from "./lib/cccd.mjs";

const SDKAPPID = 1400001300;
const id = crypto.randomBytes(3).toString("hex");
const R = 1 + crypto.randomInt(250);
const NS_R = `cccd-nat-${id}-r`, NS_P = `cccd-nat-${id}-p`;
const V = { a: `na${id}`, r: `nr${id}`, p: `np${id}`, b: `nb${id}` };
const CCCD_IP = `10.213.${R}.2`, PUBLIC_IP = `198.19.${R}.10`, ROUTER_A = `10.213.${R}.1`;
const PHONE_IP = `198.18.${R}.2`, ATTACKER_IP = `198.18.${R}.3`, PHONE_PRIVATE = `10.214.${R}.7`;

function have(cmd) {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const skip = process.getuid?.() !== 0 ? "needs root (ip netns, veth, iptables): skipped" :
  !have("iptables") ? "needs iptables (scripts/install-deps.sh): skipped" : false;

const run = (...args) => execFileSync(args[0], args.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
const inNs = (ns, ...args) => run("ip", "netns", "exec", ns, ...args);

function teardown() {
  // Deleting the namespaces deletes their ends of the veths, and so the pairs.
  for (const ns of [NS_R, NS_P]) {
    try { run("ip", "netns", "del", ns); } catch { /* not made */ }
  }
  try { run("ip", "link", "del", V.a); } catch { /* gone with its peer */ }
}

function setup() {
  run("ip", "netns", "add", NS_R);
  run("ip", "netns", "add", NS_P);
  // this namespace ↔ router
  run("ip", "link", "add", V.a, "type", "veth", "peer", "name", V.r, "netns", NS_R);
  run("ip", "addr", "add", `${CCCD_IP}/24`, "dev", V.a);
  run("ip", "link", "set", V.a, "up");
  run("ip", "route", "add", `198.18.${R}.0/24`, "via", ROUTER_A);
  run("ip", "route", "add", `10.214.${R}.0/24`, "via", ROUTER_A);
  inNs(NS_R, "ip", "link", "set", "lo", "up");
  inNs(NS_R, "ip", "addr", "add", `${ROUTER_A}/24`, "dev", V.r);
  inNs(NS_R, "ip", "link", "set", V.r, "up");
  // router ↔ peer
  inNs(NS_R, "ip", "link", "add", V.p, "type", "veth", "peer", "name", V.b, "netns", NS_P);
  inNs(NS_R, "ip", "addr", "add", `198.18.${R}.1/24`, "dev", V.p);
  inNs(NS_R, "ip", "link", "set", V.p, "up");
  inNs(NS_R, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
  inNs(NS_R, "ip", "route", "add", "blackhole", `10.214.${R}.0/24`);
  // the 1:1 NAT of cccd's machine
  inNs(NS_R, "iptables", "-t", "nat", "-A", "PREROUTING", "-d", PUBLIC_IP, "-j", "DNAT",
    "--to-destination", CCCD_IP);
  inNs(NS_R, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", CCCD_IP, "-j", "SNAT",
    "--to-source", PUBLIC_IP);
  inNs(NS_P, "ip", "link", "set", "lo", "up");
  inNs(NS_P, "ip", "addr", "add", `${PHONE_IP}/24`, "dev", V.b);
  inNs(NS_P, "ip", "addr", "add", `${ATTACKER_IP}/24`, "dev", V.b);
  inNs(NS_P, "ip", "link", "set", V.b, "up");
  inNs(NS_P, "ip", "route", "add", "default", "via", `198.18.${R}.1`);
}

let tmp;
before(() => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-nat-"));
  try {
    setup();
  } catch (e) {
    teardown();
    throw new Error(`setting up the namespaces failed: ${e.stderr || e.message}`);
  }
});

after(() => {
  if (skip) return;
  teardown();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Runs nat_peer.mjs in the peer namespace; resolves to its JSON line.
function rtpPeer(args) {
  return new Promise((resolve, reject) => {
    const p = spawn("ip", ["netns", "exec", NS_P, process.execPath,
      path.join(ROOT, "tests/integration/lib/nat_peer.mjs"), JSON.stringify(args)],
    { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (b) => { out += b; });
    p.stderr.on("data", (b) => { err += b; });
    const t = setTimeout(() => p.kill("SIGKILL"), 60000);
    p.on("exit", (code) => {
      clearTimeout(t);
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()));
      } catch {
        reject(new Error(`the RTP peer failed (${code}): ${out}${err}`));
      }
    });
  });
}

const esc = (ip) => ip.replace(/\./g, "\\.");
const NUMBER = "008675587654321";

// One call through the NAT with [media] symmetric_rtp = latch, outbound (cccd calls the
// phone) or inbound (the phone calls a number of cccd's public address); the RTP peer's
// report and the call's CDR.
async function natCall(latch, inbound = false) {
  const rtpPort = 40000 + crypto.randomInt(10000) * 2;
  const log = path.join(tmp, `phone-${latch}-${inbound ? "in" : "out"}-messages.log`);
  const flow = { ivrId: 1, name: "nat", type: inbound ? "inbound" : "autoOutbound", start: "s",
    nodes: [
      { id: "s", type: "start", next: "m" },
      { id: "m", type: "menu", label: "menu", params: { prompt: { tts: "Press one to continue." },
        interruptible: true, timeoutMs: 8000, retries: 0, keys: { 1: { label: "one", next: "bye" } } },
      onTimeout: "bye", onInvalid: "bye" },
      { id: "bye", type: "hangup", params: { prompt: { tts: "Goodbye." }, endStatus: "ok" } }] };
  let d, phone;
  try {
    d = await startCccd({ sipIp: CCCD_IP, rtpIp: CCCD_IP,
      sipLines: [`external_ip = ${PUBLIC_IP}`],
      mediaLines: [`external_ip = ${PUBLIC_IP}`, `symmetric_rtp = ${latch}`],
      sections: `[trunk phone]\nhost = ${PHONE_IP}\nport = 5060\nroute = *\noptions_interval = 0\n` });
    fs.writeFileSync(path.join(d.dir, "1.json"), JSON.stringify(flow));
    const api = client(d.tenant(["--sdkappid", String(SDKAPPID), "--ivr",
      `1:${flow.type}:${d.dir}/1.json`, "--number", inbound ? NUMBER : "008601012345678",
      "--rules", "demo"]), d.endpoint);
    const peerArgs = ["-key", "natip", PHONE_PRIVATE, "-key", "rtp1", String(rtpPort),
      "-trace_msg", "-message_file", log, "-m", "1"];
    let sessionId;
    if (inbound) {
      d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(SDKAPPID),
        "--number", NUMBER, "--outbound", "no", "--inbound-ivr", "1"]);
      await new Promise((r) => setTimeout(r, 6000)); // the inbound table is re-read every 5 s
      phone = await sipp(path.join(ROOT, "tests/sip/uac_nat_inbound.xml"), {
        netns: NS_P, ip: PHONE_IP, port: 5062, mp: 6000,
        args: [...peerArgs, "-s", "+8675587654321", `${PUBLIC_IP}:${d.sipPort}`] });
    } else {
      phone = await sipp(path.join(ROOT, "tests/sip/uas_nat_answer.xml"), {
        netns: NS_P, ip: PHONE_IP, port: 5060, mp: 6000, args: peerArgs });
    }
    const peer = rtpPeer({ log, inbound, peerIp: PHONE_IP, attackerIp: ATTACKER_IP,
      port: rtpPort, seconds: 6, keyAtMs: 1500 });
    if (!inbound) {
      const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: "008613800138000", IVRId: 1 });
      assert.equal(r.err, undefined, r.message);
      sessionId = r.SessionId;
    }
    const got = await peer;
    assert.equal(got.error, undefined, got.error);
    assert.equal(await phone.wait(30000), 0, `sipp's scenario passed:\n${phone.log}`);
    let cdr;
    if (inbound) {
      const now = Math.floor(Date.now() / 1000);
      cdr = await until(async () => {
        const l = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 600,
          EndTimeStamp: now + 60, PageSize: 10, PageNumber: 0 });
        return l.TotalCount >= 1 ? l.TelCdrList[0] : null;
      }, 10000, 200, "the inbound call's record");
    } else {
      await finished(api, SDKAPPID, sessionId, 40000);
      cdr = await until(() => cdrOf(api, SDKAPPID, sessionId), 5000, 100, "the CDR");
    }
    return { got, cdr, messages: fs.readFileSync(log, "utf8") };
  } finally {
    await d?.close();
    await phone?.stop();
  }
}

// What cccd sent carries its public address, never the private one; audio both ways:
// the phone's key came through, cccd's prompt reached the phone at its real address, and
// none of it went to the attacker who spoke first.
function natChecks({ got, cdr, messages }, inbound) {
  // Every Contact cccd sent in the dialog: the INVITE's (or 180/200's), and outbound the
  // 200 to the phone's UPDATE (it once carried the bound address).
  const contacts = [...messages.matchAll(/^Contact: <sip:cccd@([^:>]+)/gm)].map((m) => m[1]);
  assert.ok(contacts.length >= (inbound ? 1 : 2), `cccd's Contacts: ${contacts}`);
  assert.deepEqual([...new Set(contacts)], [PUBLIC_IP], "every Contact is advertised");
  assert.equal(got.addr, PUBLIC_IP, "SDP c= is the advertised address");
  assert.match(got.msg, new RegExp(`^o=\\S+ \\d+ \\d+ IN IP4 ${esc(PUBLIC_IP)}`, "m"));
  assert.match(got.msg, new RegExp(`^Contact: <sip:cccd@${esc(PUBLIC_IP)}:\\d+>`, "m"));
  if (!inbound) // a response's Via is the caller's
    assert.match(got.msg, new RegExp(`^Via: SIP/2.0/UDP ${esc(PUBLIC_IP)}:\\d+;`, "m"));
  assert.doesNotMatch(got.msg, new RegExp(esc(CCCD_IP)), "no private address");
  assert.equal(cdr.EndStatus, 1, JSON.stringify(cdr));
  assert.deepEqual(cdr.IVRKeyPressed, ["1"]);
  assert.ok(got.peer.count > 50, `the phone got ${got.peer.count} packets of cccd's audio`);
  assert.deepEqual(Object.keys(got.peer.from).map((f) => f.split(":")[0]), [PUBLIC_IP]);
  assert.equal(got.attacker.count, 0, "the attacker got none of the call's audio");
}

test("behind a 1:1 NAT, outbound: public address advertised, audio both ways, no hijack",
  { skip }, async () => natChecks(await natCall("yes"), false));

test("behind a 1:1 NAT, inbound: public address advertised, audio both ways, no hijack",
  { skip }, async () => natChecks(await natCall("yes", true), true));

// Why "yes" is the default: latching to whoever proves itself first is what a hijacker
// needs. With "any", the attacker's run wins and the phone's key is lost.
test("symmetric_rtp = any: the first source to prove itself takes the stream", { skip }, async () => {
  const { got, cdr } = await natCall("any");
  assert.ok(got.attacker.count > 50, `the attacker got ${got.attacker.count} packets`);
  assert.equal(got.peer.count, 0);
  assert.deepEqual(cdr.IVRKeyPressed, []);
});
