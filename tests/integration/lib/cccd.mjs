// Test helpers: a real cccd process on free loopback ports with a temporary database,
// tenants made with `ccc admin tenant-add`, sipp peers, and the official Node SDK.
// Every wait is bounded; every process started is stopped by stop().
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tencentcloud = require("tencentcloud-sdk-nodejs-intl-en");

export const ROOT = path.resolve(new URL("../../..", import.meta.url).pathname);
export const VARIANT = process.env.CCCD_BUILD || "release";
export const CCCD = path.join(ROOT, "build", VARIANT, "cccd");
export const CCC = path.join(ROOT, "build", VARIANT, "ccc");

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// A free TCP (and, for SIP, UDP) port on 127.0.0.1, as the kernel hands it out.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
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

// Starts cccd. opts.sections: extra config text; opts.trunkPort: a trunk to that UDP port;
// opts.storePath: the database file (default: in the temporary folder), opts.storeLines:
// more keys for [store]; opts.env: more environment variables for the process.
export async function startCccd(opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-it-"));
  const apiPort = await freePort();
  const sipPort = await freePort();
  // opts.rtpPorts [min, max]: the RTP range a test was assigned; else a random slice.
  // opts.sipLines: more keys for [sip]; opts.sections: whole sections appended.
  const rtpBase = 40000 + Math.floor(Math.random() * 250) * 40; // 40000-49999: not sipp's
  const [rtpMin, rtpMax] = opts.rtpPorts || [rtpBase, rtpBase + 39];
  const conf = [
    "[log]", `level = ${opts.logLevel || "info"}`,
    "[api]", `listen = 127.0.0.1:${apiPort}`,
    "[store]", `path = ${opts.storePath || `${dir}/cccd.db`}`, ...(opts.storeLines || []),
    "[sip]", `listen = udp 127.0.0.1:${sipPort}`, "ring_timeout = 10", ...(opts.sipLines || []),
    "[media]", "rtp_ip = 127.0.0.1", `port_min = ${rtpMin}`, `port_max = ${rtpMax}`,
    `recording_dir = ${dir}/recordings`, "rtp_timeout_ms = 15000",
    "[push]", "retry_schedule = 200ms,400ms,800ms", "poll_ms = 100",
    ...(opts.sections && opts.sections.includes("[session]") ? [] : ["[session]", "stop_wait = 2"]),
    ...(opts.trunkPort ? ["[trunk peer]", "host = 127.0.0.1", `port = ${opts.trunkPort}`,
      "transport = udp", "route = *", "options_interval = 0"] : []),
    opts.sections || "",
  ].join("\n") + "\n";
  const confPath = path.join(dir, "cccd.conf");
  fs.writeFileSync(confPath, conf);

  const d = {
    dir, confPath, apiPort, sipPort, endpoint: `127.0.0.1:${apiPort}`, proc: null, log: "",
    async start() {
      this.log = "";
      this.proc = spawn(CCCD, ["--config", confPath], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...(opts.env || {}) } });
      this.proc.stdout.on("data", (b) => { this.log += b; });
      this.proc.stderr.on("data", (b) => { this.log += b; });
      const p = this.proc;
      await until(async () => {
        if (p.exitCode !== null) throw new Error(`cccd exited ${p.exitCode}:\n${this.log}`);
        return connectOk(apiPort);
      }, 15000, 50, "cccd to listen");
    },
    // kill -9: no cleanup at all.
    async kill() {
      const p = this.proc;
      if (!p || p.exitCode !== null) return;
      const done = new Promise((r) => p.once("exit", r));
      p.kill("SIGKILL");
      await done;
    },
    // SIGTERM and wait (bounded): returns the exit code.
    async stop() {
      const p = this.proc;
      if (!p || p.exitCode !== null) return p ? p.exitCode : 0;
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
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await d.start();
  return d;
}

// The official SDK client; every action as a promise resolving to the response, or on error
// to {err, message, requestId, traceId}.
export function client(creds, endpoint, signMethod = "TC3-HMAC-SHA256", reqMethod = "POST") {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod, httpProfile: { protocol: "http://", endpoint, reqMethod, reqTimeout: 30 } });
  return new Proxy({}, {
    get: (_, action) => (req) => new Promise((resolve) => {
      c[action](req, (err, resp) => resolve(err ? { err: err.code, message: err.message,
        requestId: err.requestId, traceId: err.traceId } : resp));
    }),
  });
}

// A sipp peer (UAS by default) on a free port; stop() ends it. opts.port / opts.mp fix its
// SIP and media ports, opts.cwd its folder (relative pcap paths in scenarios), opts.args more.
// Its media ports (50000-59999) are apart from cccd's RTP ranges (40000-49999), but any
// process may hold one a moment (the kernel hands out ports up to 60999): a sipp that
// cannot bind is started again on other ports, so a port taken by chance is not a failure.
export async function sipp(scenario, opts = {}) {
  for (let attempt = 1; ; attempt++) {
    const peer = await sippOnce(scenario, opts);
    const inUse = peer.proc.exitCode !== null &&
      /already in use|bind/i.test(peer.log + readIfAny(`/tmp/sipp-${peer.port}.err`));
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
  const mp = opts.mp || 50000 + Math.floor(Math.random() * 1000) * 10;
  const args = ["-sf", scenario, "-i", "127.0.0.1", "-p", String(port), "-mi", "127.0.0.1",
    "-mp", String(mp), "-nostdin", "-trace_err", "-error_file", `/tmp/sipp-${port}.err`,
    ...(opts.args || [])];
  const proc = spawn("sipp", args, { stdio: ["ignore", "pipe", "pipe"], cwd: opts.cwd });
  let log = "";
  proc.stdout.on("data", (b) => { log += b; });
  proc.stderr.on("data", (b) => { log += b; });
  const exited = new Promise((r) => proc.once("exit", (code) => r(code === null ? 128 : code)));
  await sleep(300);
  return {
    port, proc, get log() { return log; },
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
