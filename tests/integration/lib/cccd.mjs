// Test helpers: a real cccd process on free loopback ports with a temporary database,
// tenants made with `ccc admin tenant-add`, sipp peers, and the official Node SDK.
// Every wait is bounded; every process started is stopped by stop().
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import dgram from "node:dgram";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { STORE, pgDatabase, pgStoreLines, psql } from "./pg.mjs";

const require = createRequire(import.meta.url);
const tencentcloud = require("tencentcloud-sdk-nodejs-intl-en");

export const ROOT = path.resolve(new URL("../../..", import.meta.url).pathname);
export const VARIANT = process.env.CCCD_BUILD || "release";
export const CCCD = path.join(ROOT, "build", VARIANT, "cccd");
export const CCC = path.join(ROOT, "build", VARIANT, "ccc");

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Ports. Two kinds, so that integration files can run side by side (scripts/test.sh runs
// several at once, each in its own network namespace; a file run alone shares the host's):
//  - single listeners (cccd's API and SIP ports, a sipp's SIP port) get a port the kernel
//    hands out (bind to 0), checked free for both TCP and UDP and released just before the
//    program binds it; a program that then finds it taken is started again on new ports
//    (startCccd, sipp), as another process may take an ephemeral port in that moment;
//  - ranges (cccd's RTP ports, a sipp's media ports) come out of PORT_POOL, which lies
//    below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, usually
//    32768-60999) so no outgoing connection is ever given one of them. A range is reserved
//    across processes by a lock file per block of 10 ports in PORT_LOCKS (a reservation of
//    a process that died is taken over), and each port of it is proven free by binding it.
export const PORT_POOL = [20000, 29999];
const PORT_BLOCK = 10;
const PORT_LOCKS = path.join(os.tmpdir(), "cccd-it-ports");
const heldBlocks = new Set();

function ephemeralRange() {
  try {
    const [lo, hi] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim().split(/\s+/).map(Number);
    return [lo, hi];
  } catch {
    return [32768, 60999];
  }
}

function bindOk(port, type) {
  return new Promise((resolve) => {
    const done = (ok) => { s.close(() => resolve(ok)); };
    let s;
    if (type === "tcp") {
      s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => done(true));
    } else {
      s = dgram.createSocket("udp4");
      s.once("error", () => { s.close(); resolve(false); });
      s.bind(port, "127.0.0.1", () => done(true));
    }
  });
}

// A free port on 127.0.0.1 for both TCP and UDP, as the kernel hands it out.
export async function freePort() {
  for (let attempt = 1; ; attempt++) {
    const port = await new Promise((resolve, reject) => {
      const s = net.createServer();
      s.unref();
      s.on("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const { port: p } = s.address();
        s.close(() => resolve(p));
      });
    });
    if (await bindOk(port, "udp") || attempt === 20) return port;
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

function lockBlock(block) {
  const file = path.join(PORT_LOCKS, String(block));
  for (let i = 0; i < 2; i++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx" });
      heldBlocks.add(block);
      return true;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      const owner = Number(readIfAny(file));
      if (owner && (owner === process.pid || pidAlive(owner))) return false;
      fs.rmSync(file, { force: true }); // its owner died: the block is free again
    }
  }
  return false;
}

function unlockBlocks(blocks) {
  for (const b of blocks) {
    if (heldBlocks.delete(b)) fs.rmSync(path.join(PORT_LOCKS, String(b)), { force: true });
  }
}

process.on("exit", () => unlockBlocks([...heldBlocks]));

// n consecutive ports out of PORT_POOL, reserved for this process and each free for UDP
// (and for TCP too with { tcp: true }) when this returns. Resolves to { min, max, release() }.
export async function portRange(n, { tcp = false } = {}) {
  fs.mkdirSync(PORT_LOCKS, { recursive: true });
  const [elo, ehi] = ephemeralRange();
  const first = Math.ceil(PORT_POOL[0] / PORT_BLOCK), last = Math.floor((PORT_POOL[1] + 1) / PORT_BLOCK) - 1;
  const need = Math.ceil(n / PORT_BLOCK);
  const starts = [];
  for (let b = first; b + need - 1 <= last; b += need) {
    const min = b * PORT_BLOCK, max = min + n - 1;
    if (max < elo || min > ehi) starts.push(b); // never inside the kernel's ephemeral range
  }
  if (!starts.length) throw new Error(`no port range of ${n} outside the ephemeral range ${elo}-${ehi}`);
  for (let attempt = 0; attempt < 200; attempt++) {
    const b0 = starts[Math.floor(Math.random() * starts.length)];
    const blocks = [];
    for (let b = b0; b < b0 + need && lockBlock(b); b++) blocks.push(b);
    if (blocks.length === need) {
      const min = b0 * PORT_BLOCK, max = min + n - 1;
      let free = true;
      for (let p = min; p <= max && free; p++) {
        free = await bindOk(p, "udp") && (!tcp || await bindOk(p, "tcp"));
      }
      if (free) return { min, max, release: () => unlockBlocks(blocks) };
    }
    unlockBlocks(blocks);
  }
  throw new Error(`no free range of ${n} ports in ${PORT_POOL.join("-")}`);
}

// Polls fn() until it returns a truthy value; throws after timeoutMs.
export async function until(fn, timeoutMs = 20000, stepMs = 100, what = "condition") {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

function connectOk(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    c.on("connect", () => { c.destroy(); resolve(true); });
    c.on("error", () => resolve(false));
  });
}

// Starts cccd. opts.sections: extra config text; opts.trunkPort: a trunk to that UDP port.
// opts.rtpPorts [min, max]: a fixed RTP range, else opts.rtpCount (40) ports reserved out of
// PORT_POOL until cleanup();
// opts.apiLines: more keys for [api] (tls_cert, tls_key); opts.sipLines: more keys for [sip]; opts.sections: whole sections appended.
// opts.inboundFrom: [sip] inbound_from, "127.0.0.1" by default (the tests' SIP peers are on
// loopback and most have no trunk to call from); null leaves the key out (trunks only).
// opts.sipIp / opts.rtpIp: the addresses SIP and RTP bind to (127.0.0.1); opts.mediaLines:
// more keys for [media].
// opts.storePath: the database file (default: in the temporary folder), opts.storeLines:
// more keys for [store]; opts.pushLines: more keys for [push]; opts.env: more environment variables for the process.
// opts.logFormat: [log] format ("text"). The admin listener ([admin] listen: /metrics,
// /healthz, /readyz) gets a free port (d.adminPort; d.admin(path) fetches one) unless
// opts.sections has an [admin] section of its own; opts.adminLines: more keys for [admin].
// CCCD_STORE=postgresql: the store is a PostgreSQL database of this cccd's own (lib/pg.mjs),
// d.pgDb; opts.storePath (a test that reads the SQLite file itself) keeps SQLite;
// opts.pgDb (pgDatabase()) puts the cccd on that database whatever CCCD_STORE says.
export async function startCccd(opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-it-"));
  const pgDb = opts.pgDb || (STORE === "postgresql" && !opts.storePath ? pgDatabase() : null);
  const rtp = opts.rtpPorts ? null : await portRange(opts.rtpCount || 40);
  const [rtpMin, rtpMax] = opts.rtpPorts || [rtp.min, rtp.max];
  const confPath = path.join(dir, "cccd.conf");
  const writeConf = (apiPort, sipPort, adminPort) => fs.writeFileSync(confPath, [
    "[log]", `level = ${opts.logLevel || "info"}`, `format = ${opts.logFormat || "text"}`,
    "[api]", `listen = 127.0.0.1:${apiPort}`, ...(opts.apiLines || []),
    ...(opts.sections && opts.sections.includes("[admin]") ? [] : ["[admin]", `listen = 127.0.0.1:${adminPort}`, ...(opts.adminLines || [])]),
    "[store]", `path = ${opts.storePath || `${dir}/cccd.db`}`, ...(pgDb ? pgStoreLines(pgDb) : []),
    ...(opts.storeLines || []),
    "[sip]", `listen = udp ${opts.sipIp || "127.0.0.1"}:${sipPort}`, "ring_timeout = 10",
    ...(opts.inboundFrom === null ? [] : [`inbound_from = ${opts.inboundFrom || "127.0.0.1"}`]),
    ...(opts.sipLines || []),
    "[media]", `rtp_ip = ${opts.rtpIp || "127.0.0.1"}`, `port_min = ${rtpMin}`, `port_max = ${rtpMax}`,
    `recording_dir = ${dir}/recordings`, `rtp_timeout_ms = ${opts.rtpTimeoutMs ?? 15000}`, ...(opts.mediaLines || []),
    "[push]", "retry_schedule = 200ms,400ms,800ms", "poll_ms = 100", ...(opts.pushLines || []),
    ...(opts.sections && opts.sections.includes("[session]") ? [] : ["[session]", "stop_wait = 2"]),
    ...(opts.trunkPort ? ["[trunk peer]", "host = 127.0.0.1", `port = ${opts.trunkPort}`,
      "transport = udp", "route = *", "options_interval = 0"] : []),
    opts.sections || "",
  ].join("\n") + "\n");
  const apiPort = await freePort();
  const sipPort = await freePort();
  const adminPort = await freePort();
  writeConf(apiPort, sipPort, adminPort);

  const d = {
    dir, confPath, apiPort, sipPort, adminPort, endpoint: `127.0.0.1:${apiPort}`, proc: null, log: "", pgDb,
    started: false,
    async start() {
      // The first start takes new ports if its own were taken in the moment between the
      // check and cccd's bind; a restart keeps them (clients hold the endpoint).
      for (let attempt = 1; ; attempt++) {
        try {
          await this.startOnce();
          this.started = true;
          return;
        } catch (e) {
          if (this.started || attempt === 5 || !/cannot listen/.test(this.log)) throw e;
          this.apiPort = await freePort();
          this.sipPort = await freePort();
          this.adminPort = await freePort();
          this.endpoint = `127.0.0.1:${this.apiPort}`;
          writeConf(this.apiPort, this.sipPort, this.adminPort);
        }
      }
    },
    async startOnce() {
      this.log = "";
      this.proc = spawn(CCCD, ["--config", confPath], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...(opts.env || {}) } });
      this.proc.stdout.on("data", (b) => { this.log += b; });
      this.proc.stderr.on("data", (b) => { this.log += b; });
      const p = this.proc, port = this.apiPort;
      await until(async () => {
        if (p.exitCode !== null) throw new Error(`cccd exited ${p.exitCode}:\n${this.log}`);
        return connectOk(port);
      }, 15000, 50, "cccd to listen");
    },
    // cccd's log reaches this process through a pipe, so a line written just before an
    // HTTP answer may arrive just after it: wait (bounded) for the line, then assert.
    async waitLog(re, message, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (!re.test(this.log) && Date.now() < end) await sleep(50);
      assert.match(this.log, re, message);
    },
    // GET on the admin listener ([admin] listen): {status, body}.
    async admin(pathname) {
      const r = await fetch(`http://127.0.0.1:${this.adminPort}${pathname}`);
      return { status: r.status, body: await r.text(), type: r.headers.get("content-type") };
    },
    // kill -9: no cleanup at all.
    async kill() {
      const p = this.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const done = new Promise((r) => p.once("exit", r));
      p.kill("SIGKILL");
      await done;
    },
    // SIGTERM and wait (bounded): returns the exit code.
    async stop() {
      const p = this.proc;
      // A process killed by a signal keeps exitCode null: signalCode says it ended.
      if (!p || p.exitCode !== null || p.signalCode !== null) return p ? p.exitCode : 0;
      const done = new Promise((r) => p.once("exit", (code) => r(code)));
      p.kill("SIGTERM");
      const t = setTimeout(() => p.kill("SIGKILL"), 20000);
      const code = await done;
      clearTimeout(t);
      return code;
    },
    // SIGTERM, then the files go; a non-zero exit (a sanitizer report, a crash on
    // shutdown) fails the caller with the end of the log.
    async close() {
      const code = await this.stop();
      this.cleanup();
      if (code !== 0) throw new Error(`cccd exited with ${code}:\n${this.log.slice(-4000)}`);
    },
    // ccc admin tenant-add ...: returns {ACCOUNT_ID, TENCENTCLOUD_SECRET_ID, ...}.
    tenant(args) {
      const out = execFileSync(CCC, ["admin", "--config", confPath, "tenant-add", ...args],
        { cwd: ROOT, encoding: "utf8" });
      return Object.fromEntries(out.trim().split("\n").map((l) => l.split("=")));
    },
    // tenant-add from options; rules default to the demo set (calls at any hour, no
    // per-callee limits) so that tests do not depend on the clock.
    addTenant(sdkappid, { edition, packageExpires, ivrs = [], numbers = [], rules = "demo" } = {}) {
      const args = ["--sdkappid", String(sdkappid), "--rules", rules];
      if (edition) args.push("--edition", edition);
      if (packageExpires) args.push("--package-expires", String(packageExpires));
      for (const i of ivrs) args.push("--ivr", i);
      for (const n of numbers) args.push("--number", n);
      return this.tenant(args);
    },
    ccc(args) {
      return execFileSync(CCC, args, { cwd: ROOT, encoding: "utf8" });
    },
    // A statement on this cccd's database, SQLite or PostgreSQL alike: its rows, one a
    // line, columns between `|` (waits up to 5 s for SQLite's write lock).
    sql(query) {
      const out = pgDb ? psql(query, pgDb.name, pgDb.cluster)
        : execFileSync("sqlite3", ["-cmd", ".timeout 5000", opts.storePath || `${dir}/cccd.db`, query],
          { encoding: "utf8" });
      return out.trim();
    },
    // A query's rows as objects ({column: value}), SQLite or PostgreSQL alike: sqlite3 -json,
    // or psql on json_agg of the query (integers come back as numbers on both; name every
    // computed column, e.g. count(*) AS n).
    rows(query) {
      if (pgDb) return JSON.parse(psql(`SELECT coalesce(json_agg(q), '[]') FROM (${query}) q`,
        pgDb.name, pgDb.cluster).trim());
      const out = execFileSync("sqlite3", ["-json", "-cmd", ".timeout 5000",
        opts.storePath || `${dir}/cccd.db`, query], { encoding: "utf8" }).trim();
      return JSON.parse(out || "[]");
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
      rtp?.release();
      pgDb?.drop();
    },
  };
  await d.start();
  return d;
}

// The official SDK client; every action as a promise resolving to the response, or on error
// to {err, message, requestId, traceId}.
// protocol "https://" for a cccd with [api] tls_cert (the CA that signed it must be trusted
// by this process: see tls.test.mjs).
export function client(creds, endpoint, signMethod = "TC3-HMAC-SHA256", reqMethod = "POST",
  protocol = "http://") {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod, httpProfile: { protocol, endpoint, reqMethod, reqTimeout: 30 } });
  return new Proxy({}, {
    get: (_, action) => (req) => new Promise((resolve) => {
      c[action](req, (err, resp) => resolve(err ? { err: err.code, message: err.message,
        requestId: err.requestId, traceId: err.traceId } : resp));
    }),
  });
}

// A sipp peer (UAS by default) on a free port; stop() ends it. opts.port / opts.mp fix its
// SIP and media ports, opts.cwd its folder (relative pcap paths in scenarios), opts.args more;
// opts.netns runs it in that network namespace, on opts.ip (127.0.0.1).
// Its media ports (mp .. mp+3: audio, RTCP, video) are a range reserved out of PORT_POOL
// until it exits. Its SIP port is one the kernel handed out a moment before, which another
// process may take in between: a sipp that cannot bind is started again on other ports.
export async function sipp(scenario, opts = {}) {
  for (let attempt = 1; ; attempt++) {
    const peer = await sippOnce(scenario, opts);
    const inUse = peer.proc.exitCode !== null &&
      /already in use|bind/i.test(peer.log + readIfAny(peer.errorFile));
    if (!inUse || attempt === 5 || opts.port || opts.mp) return peer; // fixed ports: no retry
  }
}

function readIfAny(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

async function sippOnce(scenario, opts) {
  const port = opts.port || await freePort();
  const media = opts.mp ? null : await portRange(4);
  const mp = opts.mp || media.min;
  // Per process: files in other network namespaces may use the same port number.
  const errorFile = path.join(os.tmpdir(), `sipp-${process.pid}-${port}.err`);
  const ip = opts.ip || "127.0.0.1";
  const args = ["-sf", scenario, "-i", ip, "-p", String(port), "-mi", ip,
    "-mp", String(mp), "-nostdin", "-trace_err", "-error_file", errorFile,
    ...(opts.args || [])];
  const proc = opts.netns ?
    spawn("ip", ["netns", "exec", opts.netns, "sipp", ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: opts.cwd }) :
    spawn("sipp", args, { stdio: ["ignore", "pipe", "pipe"], cwd: opts.cwd });
  let log = "";
  proc.stdout.on("data", (b) => { log += b; });
  proc.stderr.on("data", (b) => { log += b; });
  const exited = new Promise((r) => proc.once("exit", (code) => {
    media?.release();
    r(code === null ? 128 : code);
  }));
  await sleep(300);
  return {
    port, proc, errorFile, get log() { return log; },
    // sipp's exit code (0: its scenario passed), or null if it runs on after timeoutMs.
    wait(timeoutMs = 20000) {
      return Promise.race([exited, sleep(timeoutMs).then(() => null)]);
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode) return;
      const done = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGKILL");
      await done;
    },
  };
}

// Polls DescribeTelSession until the session is finished (bounded).
export async function finished(api, sdkappid, sessionId, timeoutMs = 30000) {
  return until(async () => {
    const r = await api.DescribeTelSession({ SdkAppId: sdkappid, SessionId: sessionId });
    return r.Session && r.Session.SessionStatus === "finished" ? r.Session : null;
  }, timeoutMs, 200, `session ${sessionId} to finish`);
}

// The CDR of one session through DescribeTelCdr.
export async function cdrOf(api, sdkappid, sessionId) {
  const now = Math.floor(Date.now() / 1000);
  const r = await api.DescribeTelCdr({ SdkAppId: sdkappid, StartTimeStamp: now - 3600,
    EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0, SessionIds: [sessionId] });
  if (r.err) throw new Error(`DescribeTelCdr: ${r.err} ${r.message}`);
  return r.TelCdrList[0];
}

// A rules file for addTenant's `rules`: the demo calling rules (any hour, no caps, no
// counting) with more keys, e.g. a destination allow-list for transfer targets that are
// extensions (the numbering plan cannot read them, so only a name in the list opens them).
export function demoRules(dir, extra = {}) {
  const file = path.join(dir, `rules-${Math.random().toString(36).slice(2)}.json`);
  const open = { work_time: { enabled: false }, callee_interval: { max: 0 },
    callee_daily: { max: 0 }, caller_freq: { max: 0 }, caller_concurrency: 0 };
  fs.writeFileSync(file, JSON.stringify({ ...open, own: open, ...extra }));
  return file;
}

// An HTTP server on a free loopback port (a webhook, an IVR's HTTP node, a push receiver):
// handler(req, body as text, res) once the body is read. Resolves to { port, server }.
export async function httpListen(handler) {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => handler(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { port, server };
}

// A raw HTTP request to cccd; resolves to { status, headers, body (parsed when JSON) }.
export function raw(port, { method = "POST", path: p = "/", headers = {}, body = "" } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: p, headers }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { data += d; });
      res.on("end", () => {
        let parsed = data;
        try { parsed = JSON.parse(data); } catch { /* left as text */ }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed });
      });
    });
    req.on("error", reject);
    req.setTimeout(10000, () => req.destroy(new Error("timeout")));
    if (body) req.write(body);
    req.end();
  });
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
