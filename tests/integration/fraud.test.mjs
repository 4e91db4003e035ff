// Toll fraud: inbound INVITEs only from a trunk's source addresses (refused 403 with no
// state, so a resend is judged again and gets the same answer), or with a trunk's digest
// credentials (401 challenge, right credentials accepted, wrong ones refused 403); the
// per-tenant caps on concurrent outbound calls and answered minutes a day refuse
// CreateIVRSession with LimitExceeded / LimitExceeded.BasePackageExpired; the operator's
// caps in cccd.conf ([policy] tenant_channels_max, tenant_minutes_daily_max) bound them,
// whatever a tenant's own rules say.
// Sources are loopback addresses other than 127.0.0.1 (the whole 127/8 is the lo device).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, until, sleep, freePort } from "./lib/cccd.mjs";

const NUM = "008675587651111";
const FLOW = {
  ivrId: 77, name: "inbound line", type: "inbound", start: "start",
  nodes: [
    { id: "start", type: "start", next: "hello" },
    { id: "hello", type: "prompt", params: { tts: "Hello.", plays: 1 }, next: "bye" },
    { id: "bye", type: "hangup" },
  ],
};

// A SIP phone on one loopback address: sends INVITEs and collects the answers by Call-ID.
async function phone(addr, sipPort) {
  const sock = dgram.createSocket("udp4");
  await new Promise((r) => sock.bind(0, addr, r));
  const lport = sock.address().port;
  const answers = new Map(); // Call-ID -> [{code, msg}]
  const hdr = (m, h) => (m.match(new RegExp(`^${h}:\\s*(.*)$`, "im")) || [])[1]?.trim();
  const send = (text) => sock.send(Buffer.from(text), sipPort, "127.0.0.1");
  sock.on("message", (b) => {
    const m = b.toString();
    if (m.startsWith("BYE ")) {
      send(["SIP/2.0 200 OK", `Via: ${hdr(m, "Via")}`, `From: ${hdr(m, "From")}`,
        `To: ${hdr(m, "To")}`, `Call-ID: ${hdr(m, "Call-ID")}`, `CSeq: ${hdr(m, "CSeq")}`,
        "Content-Length: 0", "", ""].join("\r\n"));
      return;
    }
    if (!m.startsWith("SIP/2.0") || !/INVITE/.test(hdr(m, "CSeq") || "")) return;
    const id = hdr(m, "Call-ID");
    const code = Number(m.split(" ")[1]);
    if (code < 180) return;
    if (!answers.has(id)) answers.set(id, []);
    answers.get(id).push({ code, msg: m, to: hdr(m, "To") });
    if (code >= 300 || code === 200) // ACK every final (a 2xx's ACK would be its own
      // transaction; for these tests the call may as well stay up until cccd stops)
      send([`ACK sip:${NUM}@127.0.0.1:${sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP ${addr}:${lport};branch=z9hG4bK${crypto.randomBytes(6).toString("hex")}`,
        `From: <sip:008613800000000@${addr}:${lport}>;tag=t${id}`, `To: ${hdr(m, "To")}`,
        `Call-ID: ${id}`, `CSeq: ${hdr(m, "CSeq").split(" ")[0]} ACK`, "Max-Forwards: 70",
        "Content-Length: 0", "", ""].join("\r\n"));
  });
  const sdp = ["v=0", `o=t 1 1 IN IP4 ${addr}`, "s=-", `c=IN IP4 ${addr}`, "t=0 0",
    "m=audio 9 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", ""].join("\r\n");
  return {
    answers,
    hdr,
    close: () => sock.close(),
    // The same id and branch give a byte-identical retransmission.
    invite(id, { cseq = 1, branch = `z9hG4bK-${id}-${cseq}`, auth = null } = {}) {
      send([`INVITE sip:${NUM}@127.0.0.1:${sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP ${addr}:${lport};branch=${branch}`,
        `From: <sip:008613800000000@${addr}:${lport}>;tag=t${id}`, `To: <sip:${NUM}@127.0.0.1>`,
        `Call-ID: ${id}`, `CSeq: ${cseq} INVITE`, `Contact: <sip:t@${addr}:${lport}>`,
        "Max-Forwards: 70", ...(auth ? [`Authorization: ${auth}`] : []),
        "Content-Type: application/sdp", `Content-Length: ${Buffer.byteLength(sdp)}`, "", sdp,
      ].join("\r\n"));
    },
    async final(id, n = 1) {
      await until(() => (answers.get(id) || []).length >= n, 5000, 20, `answer ${n} to ${id}`);
      return answers.get(id)[n - 1];
    },
  };
}

async function bind(d, sdk) {
  fs.writeFileSync(path.join(d.dir, "77.json"), JSON.stringify(FLOW));
  d.tenant(["--sdkappid", String(sdk), "--ivr", `77:inbound:${d.dir}/77.json`, "--rules", "demo"]);
  d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(sdk),
    "--number", NUM, "--outbound", "no", "--inbound-ivr", "77"]);
}

const md5 = (s) => crypto.createHash("md5").update(s).digest("hex");

function authorization(challenge, user, pass, uri, cnonce = "c0ffee") {
  const realm = /realm="([^"]*)"/.exec(challenge)[1];
  const nonce = /nonce="([^"]*)"/.exec(challenge)[1];
  const ha1 = md5(`${user}:${realm}:${pass}`), ha2 = md5(`INVITE:${uri}`);
  const response = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", ` +
    `response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`;
}

let acl, dig, trunkPort;

before(async () => {
  trunkPort = await freePort();
  // The trunk's host is 127.0.0.1: by default its calls come from there.
  acl = await startCccd({ inboundFrom: null, sections: ["[trunk carrier]", "host = 127.0.0.1",
    `port = ${trunkPort}`, "route = *", "options_interval = 0"].join("\n") });
  await bind(acl, 1400013001);
  // A trunk that must authenticate: no source address is enough.
  dig = await startCccd({ inboundFrom: null, sipLines: ["auth_realm = cccd.test"],
    sections: ["[trunk carrier]", "host = 127.0.0.1", `port = ${trunkPort}`, "route = *",
      "options_interval = 0", "inbound_from = none", "inbound_username = carrier",
      "inbound_password = s3cret"].join("\n") });
  await bind(dig, 1400013002);
});

after(async () => {
  await acl?.stop();
  acl?.cleanup();
  await dig?.stop();
  dig?.cleanup();
});

test("an INVITE from an unknown source gets 403, statelessly; the trunk's address is taken",
  async () => {
    const stranger = await phone("127.0.0.2", acl.sipPort);
    const carrier = await phone("127.0.0.1", acl.sipPort);
    try {
      // The trunk's calls are answered once the inbound table has the number (5 s).
      let n = 0;
      await until(async () => {
        const id = `trunk-${n++}`;
        carrier.invite(id);
        await sleep(300);
        return [180, 200].includes(carrier.answers.get(id)?.[0]?.code);
      }, 15000, 500, "the trunk's call to be answered");

      stranger.invite("stranger-1");
      const a = await stranger.final("stranger-1");
      assert.equal(a.code, 403, a.msg);
      // The same INVITE again: judged again, refused again. A transaction would have
      // repeated its response with the same To tag; the stateless answer draws a new one.
      stranger.invite("stranger-1");
      const b = await stranger.final("stranger-1", 2);
      assert.equal(b.code, 403, b.msg);
      assert.notEqual(a.to, b.to, "no transaction kept the first answer");
      await acl.waitLog(/refused \(inbound_source, \d+ so far\): inbound INVITE from 127\.0\.0\.2:\d+ to 008675587651111/);
      assert.doesNotMatch(acl.log, /inbound call from '008613800000000' to 008675587651111[^\n]*\n[^\n]*127\.0\.0\.2/);
    } finally {
      stranger.close();
      carrier.close();
    }
  });

test("digest: challenged with 401, the right credentials accepted, wrong ones refused 403",
  async () => {
    const p = await phone("127.0.0.3", dig.sipPort);
    const uri = `sip:${NUM}@127.0.0.1:${dig.sipPort}`;
    try {
      let n = 0;
      await until(async () => {
        const id = `auth-${n++}`;
        p.invite(id);
        const ch = await p.final(id);
        assert.equal(ch.code, 401, ch.msg);
        const www = p.hdr(ch.msg, "WWW-Authenticate");
        assert.match(www, /^Digest realm="cccd\.test", nonce="[0-9a-f]+", algorithm=MD5, qop="auth"/);
        p.invite(id, { cseq: 2, auth: authorization(www, "carrier", "s3cret", uri) });
        const ok = await p.final(id, 2);
        return [180, 200].includes(ok.code);
      }, 15000, 500, "an authenticated call to be answered");

      p.invite("wrong");
      const ch = await p.final("wrong");
      assert.equal(ch.code, 401);
      const www = p.hdr(ch.msg, "WWW-Authenticate");
      p.invite("wrong", { cseq: 2, auth: authorization(www, "carrier", "guess", uri) });
      assert.equal((await p.final("wrong", 2)).code, 403);
      p.invite("wrong", { cseq: 3, auth: authorization(www, "nobody", "s3cret", uri) });
      assert.equal((await p.final("wrong", 3)).code, 403);
      // a nonce cccd never made
      const forged = www.replace(/nonce="[^"]*"/, `nonce="${"0".repeat(36)}"`);
      p.invite("wrong", { cseq: 4, auth: authorization(forged, "carrier", "s3cret", uri) });
      assert.equal((await p.final("wrong", 4)).code, 403);
      await dig.waitLog(/refused \(inbound_auth, \d+ so far\)/);
    } finally {
      p.close();
    }
  });

// The demo calling rules with tenant caps.
function capsRules(dir, caps) {
  const file = path.join(dir, `caps-${caps.channels || 0}-${caps.minutes_daily || 0}.json`);
  fs.writeFileSync(file, JSON.stringify({ work_time: { enabled: false },
    callee_interval: { max: 0 }, callee_daily: { max: 0 }, caller_freq: { max: 0 },
    caller_concurrency: 0, own: { work_time: { enabled: false }, callee_interval: { max: 0 },
      callee_daily: { max: 0 }, caller_freq: { max: 0 }, caller_concurrency: 0 },
    tenant_caps: caps }));
  return file;
}

test("tenant caps: concurrent outbound calls and minutes a day refuse CreateIVRSession",
  async () => {
    const phone = await sipp(path.join(ROOT, "tests/sip/uas_noanswer.xml"));
    const d = await startCccd({ trunkPort: phone.port });
    try {
      const out = { ...FLOW, ivrId: 78, type: "autoOutbound" };
      fs.writeFileSync(path.join(d.dir, "78.json"), JSON.stringify(out));
      const ivrs = [`78:autoOutbound:${d.dir}/78.json`];
      const chan = client(d.addTenant(1400013003, { ivrs, numbers: ["008675512340001"],
        rules: capsRules(d.dir, { channels: 1 }) }), d.endpoint);
      const mins = client(d.addTenant(1400013004, { ivrs, numbers: ["008675512340002"],
        rules: capsRules(d.dir, { minutes_daily: 1 }) }), d.endpoint);

      // One channel: the first call rings (the phone never answers), the second is refused.
      const a = await chan.CreateIVRSession({ SdkAppId: 1400013003, Callee: "13800000001",
        IVRId: 78, MaxRingTimeoutSecond: 30 });
      assert.equal(a.err, undefined, a.message);
      const b = await chan.CreateIVRSession({ SdkAppId: 1400013003, Callee: "13800000002",
        IVRId: 78 });
      assert.equal(b.err, "LimitExceeded", JSON.stringify(b));
      assert.match(b.message, /1 outbound calls up, its cap \(tenant_caps\.channels\) is 1/);
      // Another tenant is not held by it.
      const c = await mins.CreateIVRSession({ SdkAppId: 1400013004, Callee: "13800000003",
        IVRId: 78, MaxRingTimeoutSecond: 30 });
      assert.equal(c.err, undefined, c.message);
      // Once the call is over, the channel is free again.
      assert.equal((await chan.HangUpCall({ SdkAppId: 1400013003, SessionId: a.SessionId })).err,
        undefined);
      await until(async () => {
        const r = await chan.CreateIVRSession({ SdkAppId: 1400013003, Callee: "13800000004",
          IVRId: 78, MaxRingTimeoutSecond: 30 });
        return r.err === undefined ? r : null;
      }, 10000, 200, "the channel to be free");

      // Minutes: a finished call answered for 61 s today, as the records keep it (waiting a
      // real minute would give the same count), uses up the instance's one minute.
      const now = Math.floor(Date.now() / 1000);
      d.sql("INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, status, " +
        "created_ms, start_ts, accept_ts, ended_ts, end_status) VALUES ('" +
        "f".repeat(32) + `', 1400013004, 0, 1, '008675512340002', '008613800000009', 3, ` +
        `${(now - 70) * 1000}, ${now - 70}, ${now - 62}, ${now - 1}, 1)`);
      const m = await mins.CreateIVRSession({ SdkAppId: 1400013004, Callee: "13800000005",
        IVRId: 78 });
      assert.equal(m.err, "LimitExceeded.BasePackageExpired", JSON.stringify(m));
      assert.match(m.message, /used \d+ s today, its cap \(tenant_caps\.minutes_daily\) is 1 minutes/);
      await d.waitLog(/refused \(channels, 1 so far\): CreateIVRSession of instance 1400013003/);
      await d.waitLog(/refused \(minutes, 1 so far\): CreateIVRSession of instance 1400013004/);
    } finally {
      await d.stop();
      d.cleanup();
      phone.stop();
    }
  });

test("operator caps in cccd.conf bound every tenant: its own rules cannot raise them",
  async () => {
    const phone = await sipp(path.join(ROOT, "tests/sip/uas_noanswer.xml"));
    const d = await startCccd({ trunkPort: phone.port,
      sections: "[policy]\ntenant_channels_max = 1\ntenant_minutes_daily_max = 1\n" });
    try {
      const out = { ...FLOW, ivrId: 78, type: "autoOutbound" };
      fs.writeFileSync(path.join(d.dir, "78.json"), JSON.stringify(out));
      const ivrs = [`78:autoOutbound:${d.dir}/78.json`];
      // This tenant's own rules ask for 5 channels and 6000 minutes: the operator's 1 holds.
      const big = client(d.addTenant(1400013005, { ivrs, numbers: ["008675512340005"],
        rules: capsRules(d.dir, { channels: 5, minutes_daily: 6000 }) }), d.endpoint);
      const a = await big.CreateIVRSession({ SdkAppId: 1400013005, Callee: "13800000011",
        IVRId: 78, MaxRingTimeoutSecond: 30 });
      assert.equal(a.err, undefined, a.message);
      const b = await big.CreateIVRSession({ SdkAppId: 1400013005, Callee: "13800000012",
        IVRId: 78 });
      assert.equal(b.err, "LimitExceeded", JSON.stringify(b));
      assert.match(b.message,
        /1 outbound calls up, the operator's cap \(\[policy\] tenant_channels_max\) is 1/);
      await d.waitLog(/refused \(channels, 1 so far\): CreateIVRSession of instance 1400013005 .*operator's cap/);

      // A tenant without caps of its own meets the operator's minute cap.
      const none = client(d.addTenant(1400013006, { ivrs, numbers: ["008675512340006"] }),
        d.endpoint);
      const now = Math.floor(Date.now() / 1000);
      d.sql("INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, status, " +
        "created_ms, start_ts, accept_ts, ended_ts, end_status) VALUES ('" +
        "e".repeat(32) + `', 1400013006, 0, 1, '008675512340006', '008613800000019', 3, ` +
        `${(now - 70) * 1000}, ${now - 70}, ${now - 62}, ${now - 1}, 1)`);
      const m = await none.CreateIVRSession({ SdkAppId: 1400013006, Callee: "13800000013",
        IVRId: 78 });
      assert.equal(m.err, "LimitExceeded.BasePackageExpired", JSON.stringify(m));
      assert.match(m.message,
        /used \d+ s today, the operator's cap \(\[policy\] tenant_minutes_daily_max\) is 1 minutes/);
      await d.waitLog(/refused \(minutes, 1 so far\): CreateIVRSession of instance 1400013006/);
    } finally {
      await d.stop();
      d.cleanup();
      phone.stop();
    }
  });
