// The soak driver (bench/soak/run.sh starts it): one real cccd under a mixed load for
// MINUTES — CreateIVRSession at RATE per second over TENANTS tenants (each call answered by
// a sipp phone, a prompt played, cccd hangs up), DescribeTelSession of every new session,
// DescribeTelCdr every second, a blacklist edit and read (CccdModifyBlacklist,
// CccdDescribeBlacklist) every 5 s, and every record pushed to a receiver that fails some
// requests (500) and never answers others. Prints cccd's figures each minute; after the
// load it makes the receiver healthy, waits for every acknowledged session's CDR push, lets
// cccd settle and prints the figures again against the baseline taken after the warm-up.
// With CHECK=1 it exits non-zero when descriptors, memory per call, the WAL or a lost
// record exceed the bounds below (the test command runs it so for 3 minutes).
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT, client, freePort, portRange, sleep, sipp } from "../../tests/integration/lib/cccd.mjs";

const tencentcloud = createRequire(import.meta.url)(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));
const VARIANT = process.env.BUILD || "release";
const CCCD = path.join(ROOT, "build", VARIANT, "cccd");
const CCC = path.join(ROOT, "build", VARIANT, "ccc");
const MINUTES = Number(process.env.MINUTES || 10);
const RATE = Number(process.env.RATE || 5);          // creates per second, all tenants
const TENANTS = Number(process.env.TENANTS || 2);     // 20/s per account and action
const FAIL = Number(process.env.PUSH_FAIL || 0.15);   // share of pushes answered 500
const HANG = Number(process.env.PUSH_HANG || 0.05);   // share of pushes never answered
const CHECK = process.env.CHECK === "1";
const WARMUP_S = Number(process.env.WARMUP_S || 30);
// CHECK bounds:
//  - descriptors other than the store's files and TCP connections back to the baseline
//    within FD_SLACK (the store's grow with its pool of read connections, which stays;
//    idle TCP connections come and go with the load just before), and at most CONN_MAX
//    TCP connections left open when idle;
//  - resident memory grown by less than RSS_PER_CALL bytes per call over the second half
//    of the load (from the end of minute ceil(MINUTES/2) to the end): SQLite's page caches
//    (up to 2 MiB a connection) and malloc's arenas grow during the first minutes and
//    then stop, while a leak goes on with every call, and a leaked call (its SIP messages,
//    dialog, media stream and buffers) is larger than RSS_PER_CALL;
//  - the WAL file below WAL_MAX bytes (SQLite checkpoints it at 1000 pages, about 4 MiB;
//    growth past that means checkpoints stopped);
//  - no acknowledged session without its CDR push.
const FD_SLACK = Number(process.env.FD_SLACK || 4);
const CONN_MAX = Number(process.env.CONN_MAX || 64); // idle connections kept (curl's cache is bounded)
const RSS_PER_CALL = Number(process.env.RSS_PER_CALL || 8192);
const WAL_MAX = Number(process.env.WAL_MAX || 16 << 20);
// Retries enough that a record reaches the receiver (1 in 5^10 gives up), soon enough that
// the drain after the load does not wait long.
const RETRIES = "1s,1s,2s,2s,5s,5s,10s,10s,20s";
const DRAIN_S = Number(process.env.DRAIN_S || 120);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-soak-"));
const errors = new Map();
const count = (what) => errors.set(what, (errors.get(what) || 0) + 1);
const acked = new Map();   // SessionId -> tenant index
const cdrs = new Set();    // SessionIds whose CDR push arrived
let pushOk = 0, pushFailed = 0, pushHung = 0, adminOps = 0, describes = 0;
let receiverHealthy = false;
const hung = new Set();

const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const roll = receiverHealthy ? 1 : Math.random();
    if (roll < HANG) {
      pushHung++;
      hung.add(res); // answered never; cccd's push timeout ends it
      res.on("close", () => hung.delete(res));
      return;
    }
    if (roll < HANG + FAIL) {
      pushFailed++;
      res.writeHead(500).end();
      return;
    }
    pushOk++;
    const body = Buffer.concat(chunks).toString("utf8");
    if (new URL(req.url, "http://x").searchParams.get("action") === "cdr") {
      const m = /"SessionId"\s*:\s*"([0-9a-f]{32})"/.exec(body);
      if (m) cdrs.add(m[1]);
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0,"ErrMsg":"ok"}');
  });
});

function stat(p) {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

function figures(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(status)[1]);
  // Descriptors on the store's files (two per SQLite connection: the pool of readers
  // grows with concurrent requests, up to one per API thread, and stays) and connected TCP
  // sockets (libcurl's cache of idle push connections, kept up to 118 s, and clients' idle
  // keep-alive connections to the API: how many are open at a moment depends on the load
  // just before, not on the calls made) apart from the rest (UDP sockets, timers, pipes,
  // files: what a call or a request may leak).
  const tcpConns = new Set();
  for (const f of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${f}`, "utf8");
    } catch { continue; }
    for (const row of text.split("\n").slice(1)) {
      const col = row.trim().split(/\s+/);
      if (col.length > 9 && col[3] !== "0A") tcpConns.add(col[9]); // 0A: listening
    }
  }
  let fds = 0, dbFds = 0, conns = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = "";
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch { /* closed meanwhile */ }
    const inode = /^socket:\[(\d+)\]$/.exec(target);
    if (target.startsWith(path.join(dir, "cccd.db"))) dbFds++;
    else if (inode && tcpConns.has(inode[1])) conns++;
    else fds++;
  }
  return { rss: field("VmRSS") * 1024, threads: field("Threads"), fds, dbFds, conns,
    db: stat(path.join(dir, "cccd.db")), wal: stat(path.join(dir, "cccd.db-wal")) };
}

const MiB = (b) => (b / 1048576).toFixed(1);
function line(label, f) {
  const errs = [...errors.values()].reduce((a, b) => a + b, 0);
  console.log([label.padEnd(8), MiB(f.rss).padStart(8),
    `${f.fds}+${f.conns}+${f.dbFds}`.padStart(10), String(f.threads).padStart(4), MiB(f.db).padStart(7), MiB(f.wal).padStart(7),
    String(acked.size).padStart(7), String(cdrs.size).padStart(7), String(describes).padStart(7),
    String(adminOps).padStart(5), `${pushOk}/${pushFailed}/${pushHung}`.padStart(16),
    String(errs).padStart(5)].join(" "));
}

async function main() {
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const pushUrl = `http://127.0.0.1:${receiver.address().port}/push`;
  const phone = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"),
    { args: ["-aa"] });
  const rtp = await portRange(400);
  const apiPort = await freePort(), sipPort = await freePort();
  const conf = path.join(dir, "cccd.conf");
  fs.writeFileSync(conf, [
    "[log]", "level = warn",
    "[api]", `listen = 127.0.0.1:${apiPort}`,
    "[admin]", "listen =", // no /metrics: the soak runs beside other cccd processes
    "[store]", `path = ${dir}/cccd.db`,
    "[sip]", `listen = udp 127.0.0.1:${sipPort}`, "ring_timeout = 10",
    "[media]", "rtp_ip = 127.0.0.1", `port_min = ${rtp.min}`, `port_max = ${rtp.max}`,
    `recording_dir = ${dir}/recordings`, "rtp_timeout_ms = 0",
    "[push]", "poll_ms = 100",
    "[session]", "stop_wait = 5",
    "[trunk phone]", "host = 127.0.0.1", `port = ${phone.port}`, "transport = udp",
    "route = *", "options_interval = 0", ""].join("\n"));
  const flow = path.join(dir, "flow.json");
  fs.writeFileSync(flow, JSON.stringify({ type: "autoOutbound", nodes: [
    { id: "s", type: "start", next: "hi" },
    { id: "hi", type: "prompt", params: { tts: "Hello, this is a soak test." }, next: "bye" },
    { id: "bye", type: "hangup" }] }));
  const tenants = [];
  for (let i = 0; i < TENANTS; i++) {
    const app = 1400070001 + i;
    const out = execFileSync(CCC, ["admin", "--config", conf, "tenant-add", "--sdkappid", String(app),
      "--rules", "demo", "--ivr", `1:autoOutbound:${flow}`, "--number", `00867551234${String(i).padStart(4, "0")}`],
    { encoding: "utf8" });
    const creds = Object.fromEntries(out.trim().split("\n").map((l) => l.split("=")));
    execFileSync(CCC, ["push", "config", "--config", conf, "--sdkappid", String(app), "--url", pushUrl,
      "--events", "cdr", "--retry-schedule", RETRIES, "--timeout-ms", "2000"]);
    tenants.push({ app, api: client(creds, `127.0.0.1:${apiPort}`),
      admin: admin(creds, `127.0.0.1:${apiPort}`) });
  }

  const log = fs.openSync(path.join(dir, "cccd.log"), "w");
  const proc = spawn(CCCD, ["--config", conf], { cwd: ROOT, stdio: ["ignore", log, log] });
  let exited = null;
  proc.on("exit", (code, sig) => { exited = code ?? sig; });
  for (let i = 0; i < 150 && !(await fetchOk(apiPort)); i++) {
    if (exited !== null) throw new Error(`cccd exited ${exited}: see ${dir}/cccd.log`);
    await sleep(100);
  }
  console.log(`# soak: cccd ${VARIANT}, ${MINUTES} min, ${RATE} creates/s over ${TENANTS} tenants, ` +
    `pushes ${Math.round(FAIL * 100)}% failed ${Math.round(HANG * 100)}% hung; folder ${dir}`);
  console.log("# minute  rss_MiB fds+tcp+db thr  db_MiB wal_MiB created  cdrs    query admin " +
    "push ok/500/hung  errs");

  let n = 0;
  const create = async () => {
    const t = n++ % tenants.length;
    const { app, api } = tenants[t];
    const r = await api.CreateIVRSession({ SdkAppId: app, IVRId: 1,
      Callee: `+86138${String(n % 100000000).padStart(8, "0")}` });
    if (r.err) return count(`CreateIVRSession ${r.err}`);
    acked.set(r.SessionId, t);
    await sleep(2000);
    const s = await api.DescribeTelSession({ SdkAppId: app, SessionId: r.SessionId });
    describes++;
    if (s.err) count(`DescribeTelSession ${s.err}`);
  };
  const cdrQuery = async () => {
    const { app, api } = tenants[n % tenants.length];
    const now = Math.floor(Date.now() / 1000);
    const r = await api.DescribeTelCdr({ SdkAppId: app, StartTimeStamp: now - 300, EndTimeStamp: now,
      PageSize: 100, PageNumber: 0 });
    describes++;
    if (r.err) count(`DescribeTelCdr ${r.err}`);
  };
  const adminChange = async () => {
    const { app, admin: call } = tenants[n % tenants.length];
    const entry = `0086139${String(adminOps % 1000).padStart(8, "0")}`;
    for (const [action, req] of [["CccdModifyBlacklist", { SdkAppId: app, Add: [entry] }],
      ["CccdDescribeBlacklist", { SdkAppId: app }],
      ["CccdModifyBlacklist", { SdkAppId: app, Remove: [entry] }]]) {
      const r = await call(action, req);
      adminOps++;
      if (r.err) count(`${action} ${r.err}`);
    }
  };

  // The load: one tick per 1/RATE s, paced against the clock (a slow reply does not slow
  // the rate; its request runs on while the next one starts).
  const inflight = new Set();
  const track = (p) => { inflight.add(p); p.finally(() => inflight.delete(p)); };
  const minutes = []; // the figures at the end of each minute of the load
  const minuteLine = (m) => {
    const f = figures(proc.pid);
    line(String(m), f);
    minutes.push({ ...f, calls: cdrs.size });
  };
  const load = async (ms, label) => {
    const t0 = Date.now(), end = t0 + ms;
    let nextMinute = t0 + 60000, minute = 0, lastCdr = 0, lastAdmin = 0;
    receiverHealthy = false;
    for (let tick = 0; Date.now() < end && exited === null; tick++) {
      const due = t0 + tick * 1000 / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      if (inflight.size < 2000) track(create()); else count("client backlog");
      const now = Date.now();
      if (now - lastCdr >= 1000) { lastCdr = now; track(cdrQuery()); }
      if (now - lastAdmin >= 5000) { lastAdmin = now; track(adminChange()); }
      if (label && now >= nextMinute) {
        nextMinute += 60000;
        minuteLine(++minute);
      }
    }
    if (label && exited === null && minute < Math.round(ms / 60000)) minuteLine(++minute);
    if (exited !== null) throw new Error(`cccd exited ${exited} under load: see ${dir}/cccd.log`);
  };
  // Quiet: requests answered, every session's CDR delivered by a now healthy receiver,
  // hung requests closed, then a pause for idle connections and ended calls' timers.
  const quiesce = async () => {
    await Promise.race([Promise.allSettled([...inflight]), sleep(60000)]);
    receiverHealthy = true;
    const drainEnd = Date.now() + DRAIN_S * 1000;
    while (Date.now() < drainEnd && [...acked.keys()].some((id) => !cdrs.has(id))) await sleep(500);
    for (const res of hung) res.destroy();
    await sleep(10000);
    return figures(proc.pid);
  };

  await load(WARMUP_S * 1000, null); // caches, pools and arenas fill before the baseline
  const base = await quiesce();
  const baseCalls = cdrs.size;
  line("baseline", base);
  await load(MINUTES * 60000, "minute");
  const after = await quiesce();
  line("after", after);
  const lost = [...acked.keys()].filter((id) => !cdrs.has(id));
  const calls = Math.max(1, cdrs.size - baseCalls);
  const idlePerCall = (after.rss - base.rss) / calls;
  const from = Math.ceil(minutes.length / 2);
  const [mA, mN] = [minutes[from - 1], minutes[minutes.length - 1]];
  const perCall = minutes.length >= 2 ? (mN.rss - mA.rss) / Math.max(1, mN.calls - mA.calls) : idlePerCall;
  console.log(`# calls since baseline ${calls}; rss ${MiB(base.rss)} -> ${MiB(after.rss)} MiB idle ` +
    `(${Math.round(idlePerCall)} B/call), ${Math.round(perCall)} B/call from minute ${from} to ` +
    `minute ${minutes.length} of the load; descriptors ${base.fds}+${base.conns}+${base.dbFds} -> ${after.fds}+${after.conns}+${after.dbFds} (+TCP connections +store files); threads ` +
    `${base.threads} -> ${after.threads}; wal ${MiB(after.wal)} MiB; sessions without a CDR ` +
    `push: ${lost.length}`);
  for (const [what, k] of errors) console.log(`# error ${what}: ${k}`);

  proc.kill("SIGTERM");
  const code = await new Promise((r) => {
    if (exited !== null) return r(exited);
    const t = setTimeout(() => proc.kill("SIGKILL"), 30000);
    proc.on("exit", (c, s) => { clearTimeout(t); r(c ?? s); });
  });
  await phone.stop();
  receiver.closeAllConnections();
  receiver.close();
  rtp.release();

  const problems = [];
  if (code !== 0) problems.push(`cccd exited ${code} (see ${dir}/cccd.log)`);
  if (Math.abs(after.fds - base.fds) > FD_SLACK) problems.push(`descriptors ${base.fds} -> ${after.fds}`);
  if (after.conns > CONN_MAX) problems.push(`${after.conns} TCP connections open when idle`);
  if (perCall > RSS_PER_CALL) problems.push(`resident memory grew ${Math.round(perCall)} B per call`);
  if (after.wal > WAL_MAX) problems.push(`WAL ${MiB(after.wal)} MiB`);
  if (lost.length) problems.push(`${lost.length} sessions without a CDR push, e.g. ${lost[0]}`);
  for (const p of problems) console.log(`# ${CHECK ? "FAIL" : "note"}: ${p}`);
  if (!process.env.KEEP && !problems.length) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(CHECK && problems.length ? 1 : 0);
}

// The Cccd* actions through the SDK's common request: resolves to the response or {err}.
function admin(creds, endpoint) {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod: "TC3-HMAC-SHA256",
      httpProfile: { protocol: "http://", endpoint, reqMethod: "POST", reqTimeout: 30 } });
  return (action, req) => new Promise((resolve) => {
    const out = { deserialize(data) { Object.assign(this, data); } };
    c.request(action, req, out, (err) => resolve(err ? { err: err.code || String(err) } : out));
  });
}

function fetchOk(port) {
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, method: "GET", path: "/" }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("error", () => resolve(false));
    req.end();
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
