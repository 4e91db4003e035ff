// The cluster's edges (docs/cluster.md): 3 cccd nodes on one PostgreSQL database behind
// Kamailio (deploy/kamailio/kamailio.cfg) and nginx (deploy/nginx/cccd-api.conf), all on
// loopback with free ports. Inbound calls sent to Kamailio land on every node; outbound
// sessions created through nginx reach the callee through Kamailio (record-routed, so the
// carrier sees the edge); a drained node (OPTIONS 503) gets no new inbound call once the
// dispatcher marks it and finishes its call in progress; a node killed with -9 leaves the
// dispatcher set, new inbound calls go to the others, and the edge ends the dead node's call
// with a BYE to the caller within seconds (the node's dialog profile, at its probe's timeout). The nodes are always on PostgreSQL
// (lib/nodes.mjs), so the file runs once, in scripts/test.sh's PostgreSQL pass
// (CCCD_STORE=postgresql), and says so when started without it; else it skips only when
// Kamailio is not installed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, client, sipp, finished, cdrOf, until, freePort } from "./lib/cccd.mjs";
import { startNodes } from "./lib/nodes.mjs";
import { kamailioMissing, startKamailio, startNginx } from "./lib/edge.mjs";
import { parse } from "./lib/prometheus.mjs";
import { STORE } from "./lib/pg.mjs";

const SDKAPPID = 1400014000;
const SHORT = "008675588880001"; // inbound IVR 77: a few seconds of prompt, then hang-up
const LONG = "008675588880002";  // inbound IVR 78: over a minute of prompt
const SIP = (n) => path.join(ROOT, "tests/sip", n);
const missing = STORE !== "postgresql" ?
  "runs in the PostgreSQL pass: CCCD_STORE=postgresql (its nodes share a PostgreSQL database)" :
  kamailioMissing();

let cluster, nodes, kam, nginx, api, callee, calleePort;
const stops = [];

before(async () => {
  if (missing) return;
  // The carrier's callee and the edge's port come first: the nodes' trunk names both.
  calleePort = await freePort();
  const edgePort = await freePort();
  const trunk = ["[trunk carrier]", "host = 127.0.0.1", `port = ${calleePort}`, "transport = udp",
    "route = *", "options_interval = 0", `proxy = sip:127.0.0.1:${edgePort}`].join("\n");
  cluster = await startNodes(3, { sections: trunk, rtpTimeoutMs: 120000 });
  nodes = cluster.nodes;
  kam = await startKamailio(nodes.map((d, i) => ({ id: `node${i + 1}`, sipPort: d.sipPort })),
    { port: edgePort });
  nginx = await startNginx(nodes.map((d) => d.apiPort));

  const d = nodes[0];
  const flow = (ivrId, type, tts, plays) => ({ ivrId, name: `edge ${ivrId}`, type, start: "s",
    nodes: [{ id: "s", type: "start", next: "p" },
      { id: "p", type: "prompt", params: { tts, plays }, next: "h" },
      { id: "h", type: "hangup" }] });
  const long = "Please stay on the line. All of our agents are busy with other callers at the moment, " +
    "and your call will be answered in the order it was received.";
  for (const [id, type, tts, plays] of [[77, "inbound", "Thank you for calling.", 2],
    [78, "inbound", long, 10], [20, "autoOutbound", "Thank you.", 1]]) {
    fs.writeFileSync(path.join(d.dir, `${id}.json`), JSON.stringify(flow(id, type, tts, plays)));
  }
  const creds = d.tenant(["--sdkappid", String(SDKAPPID), "--rules", "demo",
    "--ivr", `77:inbound:${d.dir}/77.json`, "--ivr", `78:inbound:${d.dir}/78.json`,
    "--ivr", `20:autoOutbound:${d.dir}/20.json`, "--number", "008675512345678"]);
  for (const [n, ivr] of [[SHORT, 77], [LONG, 78]]) {
    d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(SDKAPPID),
      "--number", n, "--outbound", "no", "--inbound-ivr", String(ivr)]);
  }
  api = client(creds, nginx.endpoint);
});

after(async () => {
  for (const p of stops) await p.stop();
  await callee?.stop();
  await nginx?.stop();
  await kam?.stop();
  // The node killed with -9 has exited already (its stop() would wait for it again).
  for (const d of nodes || []) if (!d.proc.signalCode) await d.stop();
  cluster?.cleanup();
});

// INVITEs node i received (its /metrics), retransmissions included.
async function invites(d) {
  if (d.proc.exitCode !== null || d.proc.signalCode) return 0;
  return parse((await d.admin("/metrics")).body).sum("cccd_sip_requests_total",
    { method: "INVITE", direction: "in" });
}

async function activeCalls(d) {
  if (d.proc.exitCode !== null || d.proc.signalCode) return 0;
  return parse((await d.admin("/metrics")).body).value("cccd_calls_active");
}

// n inbound calls at once to number through the edge; resolves to sipp's exit code.
async function callIn(number, n, timeoutMs = 30000) {
  const caller = await sipp(SIP("uac_inbound_wait_bye.xml"), {
    args: ["-s", number, "-m", String(n), "-l", String(n), "-r", "20",
      "-timeout", `${Math.round(timeoutMs / 1000)}s`, "-timeout_error", `127.0.0.1:${kam.port}`] });
  stops.push(caller);
  return caller;
}

test("inbound calls through Kamailio land on every node", { skip: missing || false }, async () => {
  // The nodes read the inbound numbers every 5 s: the first call is answered once they did.
  await until(async () => {
    const c = await callIn(SHORT, 1);
    return (await c.wait(30000)) === 0;
  }, 30000, 500, "an inbound call to be answered through the edge");
  const before = await Promise.all(nodes.map(invites));
  const c = await callIn(SHORT, 6);
  assert.equal(await c.wait(40000), 0, `callers failed:\n${c.log.slice(-3000)}\n${kam.log.slice(-3000)}`);
  const after = await Promise.all(nodes.map(invites));
  after.forEach((v, i) => assert.ok(v - before[i] >= 1, `node${i + 1} got no inbound call: ${before} -> ${after}`));
});

test("outbound sessions created through nginx reach the callee through Kamailio", { skip: missing || false }, async () => {
  const trace = path.join(nodes[0].dir, "callee-messages.log");
  callee = await sipp(SIP("uas_edge_answer.xml"), { port: calleePort,
    args: ["-m", "3", "-trace_msg", "-message_file", trace, "-timeout", "40s", "-timeout_error"] });
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: `00861380000000${i}`, IVRId: 20 });
    assert.ok(r.SessionId, JSON.stringify(r));
    ids.push(r.SessionId);
  }
  assert.equal(await callee.wait(40000), 0, `callee failed:\n${callee.log.slice(-3000)}\n${kam.log.slice(-3000)}`);
  for (const id of ids) {
    await finished(api, SDKAPPID, id);
    const cdr = await cdrOf(api, SDKAPPID, id);
    assert.equal(cdr.EndStatus, 1, `session ${id}: ${JSON.stringify(cdr)}`);
  }
  // The carrier saw the edge: its Via on top and its Record-Route, never a node's address.
  const msgs = fs.readFileSync(trace, "utf8");
  const invitesSeen = msgs.split(/\n(?=INVITE )/).filter((m) => m.startsWith("INVITE "));
  assert.equal(invitesSeen.length, 3, msgs.slice(0, 3000));
  for (const m of invitesSeen) {
    assert.match(m, new RegExp(`\\nRecord-Route: <sip:127\\.0\\.0\\.1:${kam.port};lr`), m);
    assert.match(m, new RegExp(`\\nVia: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${kam.port};`), m);
  }
});

test("a drained node finishes its call and gets no new inbound call", { skip: missing || false }, async () => {
  // A call of a few seconds on some node; that node drains while it goes on.
  const held = await callIn(SHORT, 1);
  const owner = await until(async () => {
    for (const d of nodes) if (await activeCalls(d) > 0) return d;
    return null;
  }, 10000, 100, "the call to be up on a node");
  owner.proc.kill("SIGUSR1");
  await kam.nodeDown(owner.sipPort);
  const state = kam.ctl("dispatcher.list");
  assert.match(state, new RegExp(`URI: sip:127\\.0\\.0\\.1:${owner.sipPort}\\s+FLAGS: IP`), state);
  const before = await invites(owner);
  const c = await callIn(SHORT, 4);
  assert.equal(await c.wait(40000), 0, `callers failed:\n${c.log.slice(-3000)}\n${kam.log.slice(-3000)}`);
  assert.equal(await invites(owner), before, "the drained node got an inbound call");
  assert.equal(await held.wait(30000), 0, `the drained node's call did not end by its IVR:\n${held.log.slice(-3000)}`);
  owner.proc.kill("SIGUSR2");
  await kam.nodeUp(owner.sipPort);
});

test("a node killed with -9 leaves the dispatcher set; the edge ends its call both ways", { skip: missing || false }, async () => {
  const held = await callIn(LONG, 1, 90000);
  const victim = await until(async () => {
    for (const d of nodes) if (await activeCalls(d) > 0) return d;
    return null;
  }, 10000, 100, "the long call to be up on a node");
  let ended = 0;
  held.proc.once("exit", () => { ended = Date.now(); });
  const t0 = Date.now();
  await victim.kill();
  await kam.nodeDown(victim.sipPort);
  const others = nodes.filter((d) => d !== victim);
  const before = await Promise.all(others.map(invites));
  const c = await callIn(SHORT, 4);
  assert.equal(await c.wait(40000), 0, `callers failed:\n${c.log.slice(-3000)}\n${kam.log.slice(-3000)}`);
  const after = await Promise.all(others.map(invites));
  assert.ok(after[0] + after[1] - before[0] - before[1] >= 4, `the other nodes took ${before} -> ${after}`);
  // The dead node's call: its probe timed out (408), so the edge ended the calls of the
  // node's dialog profile with a BYE to the caller (and one to the dead node) — within
  // seconds, not at the in-dialog keep-alive (30 s + 10 s).
  assert.equal(await held.wait(30000), 0, `the dead node's call was not ended by the edge:\n${held.log.slice(-3000)}\n${kam.log.slice(-3000)}`);
  // Ended by the probe's timeout (the node's dialog profile), not by the in-dialog
  // keep-alive, which could not have ended it within the 30 s waited above (30 s + 10 s).
  console.log(`dead node's call ended by the edge ${((ended - t0) / 1000).toFixed(1)} s after kill -9`);
  assert.match(kam.log, new RegExp(`cccd node sip:127\\.0\\.0\\.1:${victim.sipPort} does not answer: ending its calls`));
});
