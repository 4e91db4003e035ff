// Takeover (docs/architecture.md §Nodes): two nodes on one PostgreSQL database with a
// 2000 ms lease. Node 1 holds an answered call, two sessions whose INVITE left (the peer
// holds them with 100 Trying: marked, never answered) and three waiting in its dial queue
// (its trunk's max_channels = 3); it is killed with -9. Within lease + 5 s node 2 takes
// its sessions over: the answered call and the two marked ones end as system hang-ups
// (EndStatus 0) without a second INVITE — the peer's log of INVITEs received is the
// witness — and the three never marked are dialled once, by node 2. Every session has
// one final record and one push content. PostgreSQL only (lib/nodes.mjs); the failover
// time is printed. It runs in scripts/test.sh's PostgreSQL pass (CCCD_STORE=postgresql);
// the SQLite passes skip it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { client, cdrOf, until, sleep, httpListen } from "./lib/cccd.mjs";
import { startNodes } from "./lib/nodes.mjs";
import { STORE } from "./lib/pg.mjs";

const SDK = 1400019001;
const CALLER = "008675512345678";
const LEASE_MS = 2000;
const stops = [];
after(async () => { for (const s of stops.reverse()) await s(); });

// A trunk peer on UDP that keeps every INVITE it receives (number, source port): callees
// 0086138... are answered (200 OK with SDP) and kept up; any other gets 100 Trying and,
// after holdMs, 486 Busy Here.
function peer({ holdMs }) {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const rtp = dgram.createSocket("udp4");
    const calls = new Map();
    const invites = [];
    s.on("message", (m, from) => {
      const t = m.toString("latin1");
      const h = (n) => (new RegExp(`^${n}:.*$`, "im").exec(t) || [""])[0];
      const id = (/^Call-ID:\s*(\S+)/im.exec(t) || [])[1];
      const send = (line, extra = [], body = "") => s.send([line, h("Via"), h("From"),
        `${h("To")};tag=${id.slice(0, 8)}`, h("Call-ID"), h("CSeq"), ...extra,
        `Content-Length: ${Buffer.byteLength(body)}`, "", body].join("\r\n"), from.port, from.address);
      if (/^BYE /.test(t)) { send("SIP/2.0 200 OK"); return; }
      const inv = /^INVITE sip:(\d+)@/.exec(t);
      if (!inv || !id || calls.has(id)) return; // retransmissions, ACKs, CANCELs
      calls.set(id, true);
      invites.push({ number: inv[1], port: from.port, at: Date.now() });
      s.send(["SIP/2.0 100 Trying", h("Via"), h("From"), h("To"), h("Call-ID"), h("CSeq"),
        "Content-Length: 0", "", ""].join("\r\n"), from.port, from.address);
      if (inv[1].startsWith("86138") || inv[1].startsWith("0086138")) {
        const sdp = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
          `m=audio ${rtp.address().port} RTP/AVP 0`, "a=rtpmap:0 PCMU/8000", ""].join("\r\n");
        send("SIP/2.0 200 OK", [`Contact: <sip:peer@127.0.0.1:${s.address().port}>`,
          "Content-Type: application/sdp"], sdp);
        return;
      }
      setTimeout(() => send("SIP/2.0 486 Busy Here"), holdMs);
    });
    rtp.bind(0, "127.0.0.1", () => s.bind(0, "127.0.0.1", () => resolve({
      port: s.address().port, invites,
      close: async () => { await new Promise((r) => s.close(r)); await new Promise((r) => rtp.close(r)); },
    })));
  });
}

// A flow that keeps an answered call up: a menu waiting 20 s for a key.
const FLOW = JSON.stringify({ type: "autoOutbound", nodes: [
  { id: "s", type: "start", next: "m" },
  { id: "m", type: "menu", params: { prompt: { tts: "Press one." }, timeoutMs: 20000, retries: 0,
    keys: { 1: { label: "one", next: "bye" } } }, onTimeout: "bye", onInvalid: "bye" },
  { id: "bye", type: "hangup" }] });

const trunk = (port, more = []) => ["[trunk peer]", "host = 127.0.0.1", `port = ${port}`,
  "transport = udp", "options_interval = 0", "route = *", ...more].join("\n");

test("kill -9 of a node: another takes its sessions over within lease + 5 s, each dialled at most once",
  { timeout: 120000, skip: STORE !== "postgresql" && "PostgreSQL only (CCCD_STORE=postgresql)" }, async () => {
  const p = await peer({ holdMs: 4000 });
  stops.push(() => p.close());
  const pushes = [];
  const receiver = await httpListen((req, body, res) => {
    pushes.push({ id: req.headers["x-tccc-push-uuid"], body });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0}');
  });
  stops.push(() => receiver.server.close());
  const cl = await startNodes(2, { leaseMs: LEASE_MS,
    nodeOpts: (i) => ({ sections: trunk(p.port, i === 0 ? ["max_channels = 3"] : []) }) });
  stops.push(async () => { try { for (const d of cl.nodes) await d.close(); } finally { cl.cleanup(); } });
  const [a, b] = cl.nodes;
  const flowFile = path.join(a.dir, "21.json");
  fs.writeFileSync(flowFile, FLOW);
  const creds = a.addTenant(SDK, { ivrs: [`21:autoOutbound:${flowFile}`], numbers: [CALLER] });
  a.ccc(["push", "config", "--config", a.confPath, "--sdkappid", String(SDK),
    "--url", `http://127.0.0.1:${receiver.port}/push`, "--events", "cdr"]);
  const apiA = client(creds, a.endpoint), apiB = client(creds, b.endpoint);
  const create = async (callee) => {
    const r = await apiA.CreateIVRSession({ SdkAppId: SDK, Callee: callee, IVRId: 21 });
    assert.equal(r.err, undefined, `${r.err} ${r.message}`);
    return r.SessionId;
  };

  // The answered call, then five held ones: two dialled (the trunk's three channels), three
  // waiting in node 1's queue.
  const live = await create("008613800000001");
  await until(() => a.sql(`SELECT accept_ts > 0 FROM sessions WHERE id = '${live}'`) === "t",
    15000, 100, "the live call answered");
  const held = [];
  for (let i = 0; i < 5; i++) held.push(await create(`00861390000000${i}`));
  await until(() => p.invites.length === 3, 10000, 20, "two held calls dialled");
  await sleep(300);
  assert.equal(p.invites.length, 3, "the other three wait in node 1's queue");
  const owners = a.rows(`SELECT owner_node AS o, count(*) AS n FROM sessions GROUP BY owner_node`);
  assert.deepEqual(owners, [{ o: "node1", n: 6 }]);

  const t0 = Date.now();
  await a.kill();
  const marked = [held[0], held[1]], queued = held.slice(2);
  let firstMs = 0;
  await until(async () => {
    const q = await apiB.DescribeTelSession({ SdkAppId: SDK, SessionId: marked[0] });
    if (q.Session?.SessionStatus === "finished" && !firstMs) firstMs = Date.now() - t0;
    return firstMs;
  }, LEASE_MS + 10000, 50, "node 2 to finish node 1's first marked session");
  console.log(`# failover: kill -9 -> first session of the dead node finished by another: ${firstMs} ms (lease ${LEASE_MS} ms)`);
  assert.ok(firstMs <= LEASE_MS + 5000, `failover took ${firstMs} ms`);

  const cdrs = {};
  for (const id of [live, ...held]) {
    await until(async () => (await apiB.DescribeTelSession({ SdkAppId: SDK, SessionId: id }))
      .Session?.SessionStatus === "finished", 30000, 200, `${id} to finish`);
    cdrs[id] = await until(() => cdrOf(apiB, SDK, id).catch(() => null), 10000, 300, "its CDR");
  }
  // the answered call and the marked ones: never dialled again, ended honestly
  for (const id of [live, ...marked]) {
    assert.equal(cdrs[id].EndStatus, 0, JSON.stringify(cdrs[id]));
    assert.equal(cdrs[id].HungUpSide, "system");
  }
  // the never-marked ones: dialled by node 2 (the peer's 486 after 4 s)
  for (const id of queued) assert.equal(cdrs[id].EndStatus, 206, JSON.stringify(cdrs[id]));
  const byNumber = new Map();
  for (const inv of p.invites) byNumber.set(inv.number, [...(byNumber.get(inv.number) || []), inv]);
  assert.equal(byNumber.size, 6);
  for (const [n, list] of byNumber) assert.equal(list.length, 1, `${n} dialled ${list.length} times`);
  for (let i = 0; i < 5; i++) {
    const inv = byNumber.get(`861390000000${i}`) || byNumber.get(`00861390000000${i}`);
    assert.equal(inv[0].port, i < 2 ? a.sipPort : b.sipPort, `who dialled ${held[i]}`);
  }
  assert.deepEqual(b.rows(`SELECT node_id AS id, state, taken_by AS by FROM nodes ORDER BY node_id`),
    [{ id: "node1", state: "dead", by: "node2" }, { id: "node2", state: "running", by: "" }]);
  assert.equal(b.sql(`SELECT count(*) FROM sessions WHERE owner_node <> 'node2'`), "0");
  await b.waitLog(/took over node node1/);

  // One push content per session (a re-delivery repeats the same id and body).
  await until(() => new Set(pushes.map((x) => JSON.parse(x.body).SessionId)).size === 6, 20000, 200,
    "every record pushed");
  const contents = new Map();
  for (const x of pushes) {
    const s = JSON.parse(x.body).SessionId;
    contents.set(s, new Set([...(contents.get(s) || []), x.id + x.body]));
  }
  for (const [s, c] of contents) assert.equal(c.size, 1, `${s} pushed with ${c.size} contents`);

  // A restart with the old id takes nothing back.
  await a.start();
  assert.equal(a.sql(`SELECT state FROM nodes WHERE node_id = 'node1'`), "running");
  assert.equal(a.sql(`SELECT count(*) FROM sessions WHERE owner_node = 'node1'`), "0");
});

test("a graceful stop hands the sessions left in its dial queue over at once, not after the lease",
  { timeout: 120000, skip: STORE !== "postgresql" && "PostgreSQL only (CCCD_STORE=postgresql)" }, async () => {
  const lease = 6000; // heartbeats every 2 s: a handover at once is well before the lease
  const p = await peer({ holdMs: 1500 });
  stops.push(() => p.close());
  const cl = await startNodes(2, { leaseMs: lease,
    nodeOpts: (i) => ({ sections: trunk(p.port, i === 0 ? ["max_channels = 1"] : []) }) });
  stops.push(async () => { try { for (const d of cl.nodes) await d.close(); } finally { cl.cleanup(); } });
  const [a, b] = cl.nodes;
  const flowFile = path.join(a.dir, "21.json");
  fs.writeFileSync(flowFile, FLOW);
  const creds = a.addTenant(SDK + 1, { ivrs: [`21:autoOutbound:${flowFile}`], numbers: [CALLER] });
  const apiA = client(creds, a.endpoint), apiB = client(creds, b.endpoint);
  const ids = [];
  for (let i = 0; i < 4; i++) {
    const r = await apiA.CreateIVRSession({ SdkAppId: SDK + 1, Callee: `00861370000000${i}`, IVRId: 21 });
    assert.equal(r.err, undefined, `${r.err} ${r.message}`);
    ids.push(r.SessionId);
  }
  await until(() => p.invites.length === 1, 10000, 20, "the first call placed");
  assert.equal(await a.stop(), 0); // its call ends (486 after 1.5 s); three stay queued
  const stoppedAt = Date.now();
  assert.equal(a.sql(`SELECT state FROM nodes WHERE node_id = 'node1'`), "stopped");
  await until(() => p.invites.length === 4, lease + 5000, 20, "node 2 to dial the three");
  const handover = p.invites[1].at - stoppedAt;
  console.log(`# graceful handover: node 1 exited -> node 2's first INVITE of its sessions: ${handover} ms (lease ${lease} ms)`);
  assert.ok(handover < lease / 3 + 1500, `handed over after ${handover} ms`);
  for (const inv of p.invites.slice(1)) assert.equal(inv.port, b.sipPort);
  for (const id of ids) {
    await until(async () => (await apiB.DescribeTelSession({ SdkAppId: SDK + 1, SessionId: id }))
      .Session?.SessionStatus === "finished", 20000, 200, `${id} to finish`);
    assert.equal((await cdrOf(apiB, SDK + 1, id)).EndStatus, 206);
  }
  assert.equal(new Set(p.invites.map((x) => x.number)).size, 4, "each dialled once");
});
