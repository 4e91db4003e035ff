// kill -9 at random moments of a mixed load, repeated: CreateIVRSession from three clients
// (calls answered short or long and recorded, busy, never answered), DescribeTelSession
// reads, admin changes (blacklist entries, flow versions) and pushes (records, recordings)
// to a receiver that is sometimes slow or failing. After every restart, every session acknowledged so far is found; at the
// end every acknowledged session exists exactly once with one final record, and its CDR
// push was delivered once after de-duplication on the push id (X-TCCC-PUSH-UUID); every
// acknowledged admin change is there.
//
//   CCCD_BUILD=release|asan node --test tests/integration/chaos.test.mjs
//   CHAOS_SEED=N     replays the random choices of a run (printed at the start)
//   CHAOS_ROUNDS=N   kills (default 20; bench/chaos/run.sh runs more)
//   CHAOS_LOG=FILE   the logs of every cccd process of the run, written there at the end
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT, startCccd, client, sipp, until, freePort, sleep } from "./lib/cccd.mjs";

const require = createRequire(import.meta.url);
const tencentcloud = require("tencentcloud-sdk-nodejs-intl-en");

const SDKAPPID = 1400004100;
const ROUNDS = Number(process.env.CHAOS_ROUNDS || 20);
const SEED = Number(process.env.CHAOS_SEED || Math.floor(Math.random() * 2 ** 31));

// mulberry32: a small seeded generator, so that a run's choices can be replayed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const between = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));

// Callee prefix → trunk → sipp scenario; IVR 2 is a menu that waits about 3 s. `ends`: the
// honest final records (EndStatus/HungUpSide): the call's own outcome, or 0/system for a
// call a kill cut after it rang; HangUpCall (sent to long and no-answer calls) ends a call
// that rings with 220 or 221, an answered one with 1. A busy callee answers at once
// without ringing: a session cut after its INVITE left (its dialled mark is durable before
// the INVITE) but before the 486 was recorded is never dialled again: 0/system.
const KINDS = [
  { name: "short", prefix: "0086138", scenario: "uas_answer_bye.xml", ivr: 2,
    ends: ["1/user", "0/system"] },
  { name: "long", prefix: "0086139", scenario: "uas_answer_wait_bye.xml", ivr: 2,
    ends: ["1/system", "0/system", "220/system", "221/system"] },
  { name: "busy", prefix: "0086137", scenario: "uas_busy.xml", ivr: 1,
    ends: ["206/system", "0/system"] },
  { name: "noanswer", prefix: "0086136", scenario: "uas_noanswer.xml", ivr: 1, ring: 2,
    ends: ["202/system", "0/system", "220/system", "221/system"] },
];
const MENU = JSON.stringify({ type: "autoOutbound", nodes: [
  { id: "s", type: "start", next: "m" },
  { id: "m", type: "menu", params: { prompt: { tts: "Press one." }, timeoutMs: 1000, retries: 1,
    keys: { 1: { label: "one", next: "bye" } } }, onTimeout: "bye", onInvalid: "bye" },
  { id: "bye", type: "hangup" }] });
const FLOW = (n) => JSON.stringify({ type: "autoOutbound", nodes: [
  { id: "s", type: "start", next: "p" },
  { id: "p", type: "prompt", params: { tts: `Version ${n}.` }, next: "bye" },
  { id: "bye", type: "hangup" }] });

let d, api, admin, server;
const peers = [];
const deliveries = []; // every push the receiver answered with success
let failedPushes = 0;
let logs = ""; // the logs of the processes killed so far (CHAOS_LOG=FILE keeps them)

// Any action through the SDK's common request: the response, or {err, message}.
function adminClient(creds, endpoint) {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod: "TC3-HMAC-SHA256",
      httpProfile: { protocol: "http://", endpoint, reqMethod: "POST", reqTimeout: 30 } });
  return (action, req) => new Promise((resolve) => {
    const out = { deserialize(data) { Object.assign(this, data); } };
    c.request(action, req, out, (err, resp) => {
      if (err) return resolve({ err: err.code || String(err), message: err.message,
        requestId: err.requestId });
      delete resp.deserialize;
      resolve(resp);
    });
  });
}

// An error with a RequestId was answered by cccd (a refusal); one without is a request
// whose fate is unknown (cccd was down, or the kill hit it).
const refused = (r) => Boolean(r.err && r.requestId);

before(async () => {
  console.log(`chaos: CHAOS_SEED=${SEED} CHAOS_ROUNDS=${ROUNDS}`);
  const pushPort = await freePort();
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      // Slow answers widen the window in which a kill finds a push in flight.
      await sleep(random() < 0.1 ? between(500, 1500) : between(0, 150));
      if (random() < 0.03) {
        failedPushes++;
        res.writeHead(500);
        res.end();
        return;
      }
      // Counted once the receiver has taken it, whether or not cccd lives to read the answer.
      deliveries.push({ id: req.headers["x-tccc-push-uuid"], key: req.headers["x-cccd-push-key"],
        action: new URL(req.url, "http://x").searchParams.get("action"),
        body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"ErrCode":0}');
    });
  });
  await new Promise((r) => server.listen(pushPort, "127.0.0.1", r));
  let trunks = "";
  for (const k of KINDS) {
    const p = await sipp(path.join(ROOT, "tests/sip", k.scenario));
    peers.push(p);
    trunks += `[trunk ${k.name}]\nhost = 127.0.0.1\nport = ${p.port}\ntransport = udp\n` +
      `route = ${k.prefix}\noptions_interval = 0\n`;
  }
  d = await startCccd({ sections: trunks + "[session]\nstop_wait = 2\n" });
  const creds = d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", "1:autoOutbound",
    "--number", "008601012345678", "--rules", "demo"]);
  api = client(creds, d.endpoint);
  admin = adminClient(creds, d.endpoint);
  const put = await admin("CccdPutIVRFlow", { SdkAppId: SDKAPPID, IVRId: 2, Document: MENU });
  assert.equal(put.err, undefined, put.message);
  d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(SDKAPPID),
    "--url", `http://127.0.0.1:${pushPort}/push`, "--events", "cdr,record"]);
  d.ccc(["admin", "--config", d.confPath, "instance-set", "--sdkappid", String(SDKAPPID),
    "--record", "yes"]);
});

after(async () => {
  if (process.env.CHAOS_LOG) fs.writeFileSync(process.env.CHAOS_LOG, logs + (d?.log || ""));
  for (const p of peers) await p.stop();
  server?.close();
  await d?.close(); // the last process stops cleanly (ASan: no leak, no error at exit)
});

// A push body without the signatures of its recording links: links are signed anew at each
// attempt (docs/push.md), the rest of a push is the same on every attempt.
const unsigned = (body) => body.replace(/\?Expires=\d+&Signature=[0-9a-f]+/g, "");

// Retries a read refused by the rate limit (the readers share one account's 20/s).
async function read(fn) {
  for (let i = 0; i < 50; i++) {
    const r = await fn();
    if (r.err !== "RequestLimitExceeded" && r.err !== "LimitExceeded") return r;
    await sleep(200);
  }
  throw new Error("rate limited for 10 s");
}

// Every finished session of the run through DescribeTelCdr, page by page.
async function allCdrs(since) {
  const list = [];
  for (let page = 0; page < 100; page++) {
    const r = await read(() => api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: since,
      EndTimeStamp: Math.floor(Date.now() / 1000) + 600, PageSize: 100, PageNumber: page }));
    assert.equal(r.err, undefined, r.message);
    list.push(...r.TelCdrList);
    if (r.TelCdrList.length < 100) return list;
  }
  throw new Error("more than 10000 records");
}

test(`kill -9 at random moments of a mixed load, ${ROUNDS} times`, { timeout: 120000 + ROUNDS * 20000 },
  async () => {
    const since = Math.floor(Date.now() / 1000) - 60;
    const acked = new Map();   // SessionId → kind name
    const unchecked = [];      // acknowledged, not yet looked up after a restart
    const blacklisted = [];    // acknowledged blacklist additions
    const versions = new Map(); // IVR 3 version → document, acknowledged
    const stats = { sent: 0, unknown: {}, refusedCreates: {}, missingReads: [], adminUnknown: 0,
      hangups: {} };
    let stop = false, callee = 0, entry = 0, flowN = 0;

    const create = async () => {
      const k = KINDS[between(0, KINDS.length - 1)];
      const number = k.prefix + String(callee++).padStart(8, "0");
      const req = { SdkAppId: SDKAPPID, IVRId: k.ivr, Callee: number };
      if (k.ring) req.MaxRingTimeoutSecond = k.ring;
      stats.sent++;
      const r = await api.CreateIVRSession(req);
      if (r.SessionId) {
        acked.set(r.SessionId, k.name);
        unchecked.push(r.SessionId);
      } else if (refused(r)) {
        stats.refusedCreates[r.err] = (stats.refusedCreates[r.err] || 0) + 1;
      } else {
        const why = r.err || "no reply";
        stats.unknown[why] = (stats.unknown[why] || 0) + 1;
      }
    };
    const creator = async () => {
      while (!stop) {
        await create();
        await sleep(between(250, 650));
      }
    };
    // An acknowledged session is always found while cccd answers; now and then a recent
    // call (ringing or in its menu) is hung up through the API.
    const reader = async () => {
      while (!stop) {
        const ids = [...acked.keys()];
        const recent = ids.slice(-12).filter((id) => ["long", "noanswer"].includes(acked.get(id)));
        if (recent.length && random() < 0.25) {
          const id = recent[between(0, recent.length - 1)];
          const r = await api.HangUpCall({ SdkAppId: SDKAPPID, SessionId: id });
          stats.hangups[r.err || "ok"] = (stats.hangups[r.err || "ok"] || 0) + 1;
        } else if (ids.length) {
          const id = ids[between(0, ids.length - 1)];
          const r = await api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: id });
          if (r.err === "FailedOperation.SessionNotExists") stats.missingReads.push(id);
        }
        await sleep(between(300, 700));
      }
    };
    const adminLoad = async () => {
      while (!stop) {
        if (random() < 0.6) {
          const e = "0086150" + String(entry++).padStart(8, "0");
          const r = await admin("CccdModifyBlacklist", { SdkAppId: SDKAPPID, Add: [e] });
          if (r.Entries) blacklisted.push(e);
          else if (!refused(r)) stats.adminUnknown++;
        } else {
          const doc = FLOW(flowN++);
          const r = await admin("CccdPutIVRFlow", { SdkAppId: SDKAPPID, IVRId: 3, Document: doc });
          if (r.Version) versions.set(r.Version, doc);
          else if (!refused(r)) stats.adminUnknown++;
        }
        await sleep(between(300, 900));
      }
    };
    const load = [creator(), creator(), creator(), reader(), adminLoad()];

    try {
      for (let round = 1; round <= ROUNDS; round++) {
        // Some kills land right after the start (sessions being resumed, leases released).
        const upMs = random() < 0.2 ? between(20, 400) : between(1000, 4000);
        await sleep(upMs);
        // Some kills land a few milliseconds after a burst of creates: between their
        // commit and their reply.
        const burst = random() < 0.3 ? [create(), create(), create(), create()] : [];
        if (burst.length) await sleep(between(1, 15));
        const before = { acked: acked.size, pushes: deliveries.length };
        await d.kill();
        await Promise.all(burst);
        logs += d.log + `---- kill ${round}\n`;
        await sleep(between(0, 300)); // requests meet a closed port for a moment
        let startKill = "";
        if (random() < 0.15) {
          // Killed again while starting: migrations, the resumption pass, leases released.
          const ms = between(0, 150);
          d.start().catch(() => {}); // its wait for the port ends when the next start listens
          await sleep(ms);
          await d.kill();
          logs += d.log + `---- kill ${round} while starting\n`;
          startKill = ` and ${ms} ms into the start`;
        }
        await d.start();
        // Every session acknowledged so far is found after the restart.
        const check = unchecked.splice(0);
        for (const id of check) {
          const r = await read(() => api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: id }));
          assert.ok(r.Session, `round ${round}: acknowledged session ${id} not found: ${r.err}`);
        }
        // What was acknowledged before each read (the admin load goes on meanwhile).
        const kept = [...blacklisted];
        const bl = await read(() => admin("CccdDescribeBlacklist", { SdkAppId: SDKAPPID }));
        const have = new Set(bl.Entries);
        const lost = kept.filter((e) => !have.has(e));
        assert.deepEqual(lost, [], `round ${round}: acknowledged blacklist entries lost`);
        const newest = Math.max(0, ...versions.keys());
        const flows = await read(() => admin("CccdDescribeIVRFlows", { SdkAppId: SDKAPPID }));
        const current = flows.IVRs?.find((f) => f.IVRId === 3)?.Version || 0;
        assert.ok(current >= newest, `round ${round}: IVR 3 is at version ${current}, ${newest} was acknowledged`);
        console.log(`round ${round}: killed after ${upMs} ms${burst.length ? " (creates in flight)" : ""}` +
          `${startKill}; ${before.acked} acknowledged ` +
          `(${check.length} new, all found after the restart); ${kept.length} ` +
          `blacklist entries and flow version ${newest} kept; ${before.pushes} pushes received`);
      }
    } finally {
      stop = true;
      await Promise.all(load);
    }
    assert.deepEqual(stats.missingReads, [], "acknowledged sessions not found by DescribeTelSession");

    // Every acknowledged session finishes (queued ones are dialled after the restart; no-answer rings 2 s).
    let cdrs = [];
    await until(async () => {
      cdrs = await allCdrs(since);
      const done = new Set(cdrs.map((c) => c.SessionId));
      return [...acked.keys()].every((id) => done.has(id));
    }, 90000, 1000, "every acknowledged session to finish");
    const active = await read(() => api.DescribePSTNActiveSessionList({ SdkAppId: SDKAPPID,
      Offset: 0, Limit: 25 }));
    assert.equal(active.Total, 0, `sessions still active: ${JSON.stringify(active.PSTNSessions)}`);
    cdrs = await allCdrs(since);

    // Exactly once in the store, with a final record.
    const byId = new Map();
    for (const c of cdrs) {
      assert.ok(!byId.has(c.SessionId), `${c.SessionId} listed twice`);
      byId.set(c.SessionId, c);
      const kind = KINDS.find((k) => c.Callee.startsWith(k.prefix));
      assert.ok(kind?.ends.includes(`${c.EndStatus}/${c.HungUpSide}`),
        `${c.SessionId} (${kind?.name}): EndStatus ${c.EndStatus}/${c.HungUpSide}`);
    }
    for (const id of acked.keys()) {
      const s = await read(() => api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: id }));
      assert.equal(s.Session?.SessionStatus, "finished", `${id}: ${JSON.stringify(s)}`);
    }
    const unacked = cdrs.filter((c) => !acked.has(c.SessionId)).length;

    // One delivered CDR push per finished session after de-duplication on the push id
    // (one push id per session and kind: cdr, or record and RecordId); a push delivered
    // more than once (sent again after a kill) has the same id, key and body (recording
    // links apart: they are signed at each attempt).
    await until(() => {
      const pushed = new Set(deliveries.filter((p) => p.action === "cdr")
        .map((p) => JSON.parse(p.body).SessionId));
      return cdrs.every((c) => pushed.has(c.SessionId));
    }, 60000, 500, "every record to be pushed");
    const byPushId = new Map();
    const idsByKey = new Map();
    for (const p of deliveries) {
      const first = byPushId.get(p.id);
      if (first) {
        assert.equal(p.key, first.key, `push ${p.id} came with two keys`);
        assert.equal(unsigned(p.body), unsigned(first.body), `push ${p.id} came with two bodies`);
      } else {
        byPushId.set(p.id, p);
        const b = JSON.parse(p.body);
        const kind = `${b.SessionId}:${p.action}${p.action === "record" ? ":" + b.RecordId : ""}`;
        if (!idsByKey.has(kind)) idsByKey.set(kind, new Set());
        idsByKey.get(kind).add(p.id);
      }
    }
    for (const [key, ids] of idsByKey)
      assert.equal(ids.size, 1, `${key} was queued as ${ids.size} pushes`);
    for (const c of cdrs) {
      const ids = idsByKey.get(`${c.SessionId}:cdr`);
      assert.ok(ids && ids.size === 1, `${c.SessionId}: no CDR push`);
      const body = JSON.parse(byPushId.get([...ids][0]).body);
      assert.equal(body.EndStatus, c.EndStatus, `${c.SessionId}: pushed EndStatus`);
    }

    // A record that links a recording had its recording pushed once too, and the link gives
    // a valid WAV whose header tells its length (calls cut by a kill included; one cut
    // before its first second once left a header whose RIFF size was wrong).
    let recordings = 0;
    for (const c of cdrs.filter((x) => x.RecordURL)) {
      const ids = idsByKey.get(`${c.SessionId}:record:${c.RecordId}`);
      assert.ok(ids && ids.size === 1, `${c.SessionId}: no recording push`);
      const wav = Buffer.from(await (await fetch(c.RecordURL)).arrayBuffer());
      assert.equal(wav.toString("latin1", 0, 4), "RIFF", `${c.SessionId}: not a WAV`);
      // The header counts what was written up to the last whole second (a kill between a
      // chunk's samples and its header update leaves that chunk uncounted).
      const data = wav.readUInt32LE(40);
      assert.equal(wav.readUInt32LE(4), data + 36, `${c.SessionId}: RIFF size`);
      assert.ok(data <= wav.length - 44 && wav.length - 44 - data <= 8000 * 4,
        `${c.SessionId}: data size ${data} in a file of ${wav.length} bytes`);
      recordings++;
    }

    // Acknowledged admin changes are all there.
    const bl = await read(() => admin("CccdDescribeBlacklist", { SdkAppId: SDKAPPID }));
    const have = new Set(bl.Entries);
    assert.deepEqual(blacklisted.filter((e) => !have.has(e)), []);
    // ...and in force: the first and the last entry refuse a call.
    for (const e of [blacklisted[0], blacklisted.at(-1)].filter(Boolean)) {
      const r = await read(() => api.CreateIVRSession({ SdkAppId: SDKAPPID, IVRId: 1, Callee: e }));
      assert.equal(r.err, "FailedOperation.CalleeIsBlackUser", `${e}: ${JSON.stringify(r)}`);
    }
    for (const [v, doc] of versions) {
      const f = await read(() => admin("CccdDescribeIVRFlow", { SdkAppId: SDKAPPID, IVRId: 3, Version: v }));
      assert.equal(f.Document, doc, `IVR 3 version ${v}`);
    }

    const outcomes = {};
    for (const c of cdrs) {
      const k = `${acked.get(c.SessionId) || "unacknowledged"}:${c.EndStatus}/${c.HungUpSide}`;
      outcomes[k] = (outcomes[k] || 0) + 1;
    }
    const cdrDeliveries = deliveries.filter((p) => p.action === "cdr").length;
    console.log(`totals: ${ROUNDS} kills; ${stats.sent} creates sent, ${acked.size} acknowledged, ` +
      `unanswered ${JSON.stringify(stats.unknown)}, refused ${JSON.stringify(stats.refusedCreates)}; ` +
      `${cdrs.length} records (${unacked} of unacknowledged requests), each once`);
    console.log(`totals: ${deliveries.length} pushes received for ${byPushId.size} push ids ` +
      `(${deliveries.length - byPushId.size} duplicates; CDR: ${cdrDeliveries} for ${cdrs.length}), ` +
      `${failedPushes} answered 500 on purpose`);
    console.log(`totals: HangUpCall ${JSON.stringify(stats.hangups)}`);
    console.log(`totals: ${recordings} recordings linked, pushed and valid WAVs`);
    console.log(`totals: ${blacklisted.length} blacklist additions and ${versions.size} flow ` +
      `versions acknowledged, all kept; ${stats.adminUnknown} unanswered`);
    console.log(`outcomes (kind:EndStatus/HungUpSide): ${JSON.stringify(outcomes)}`);
  });
