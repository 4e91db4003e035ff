// The CDR push from cccd itself: a call placed with the official SDK's CreateIVRSession,
// answered by sipp, hung up by the IVR — its call record reaches a real Node receiver,
// equal to what DescribeTelCdr returns; and a CDR push in flight when cccd is killed
// (kill -9) is sent again, with the same push id, after the restart.
//
// Ports: API 17081, SIP 17060, sipp 17062 (media 17050), RTP 17020-17039.
//   CCCD_BUILD=release|asan node --test tests/integration/push_cccd.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.join(root, "build", process.env.CCCD_BUILD || "release");
const require = createRequire(path.join(root, "package.json"));
const tencentcloud = require("tencentcloud-sdk-nodejs-intl-en");
const SDK = 1400000000;
const API_PORT = 17081;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const portOpen = (port) => new Promise((r) => {
  const s = net.connect(port, "127.0.0.1", () => { s.destroy(); r(true); });
  s.on("error", () => r(false));
});

function startProc(cmd, args, logFile) {
  const out = fs.openSync(logFile, "a");
  const p = spawn(cmd, args, { stdio: ["ignore", out, out] });
  fs.closeSync(out);
  p.done = new Promise((r) => p.on("exit", (code, sig) => r({ code, sig })));
  return p;
}

async function setup(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-push-e2e-"));
  const pushes = [];
  let handler = () => ({ status: 200, body: { ErrCode: 0, ErrMsg: "ok" } });
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const r = { url: new URL(req.url, "http://x"), headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8") };
      pushes.push(r);
      const reply = handler(r);
      if (reply === "hang") return;
      res.writeHead(reply.status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));

  const flow = path.join(dir, "flow.json");
  fs.writeFileSync(flow, JSON.stringify({ ivrId: 4500, name: "hang up", type: "autoOutbound",
    start: "start", nodes: [{ id: "start", type: "start", next: "end" },
      { id: "end", type: "hangup" }] }));
  const conf = path.join(dir, "cccd.conf");
  fs.writeFileSync(conf, `[log]
level = info
[api]
listen = 127.0.0.1:${API_PORT}
[store]
path = ${dir}/cccd.db
synchronous = normal
[sip]
listen = udp 127.0.0.1:17060
[trunk sipp]
host = 127.0.0.1
port = 17062
transport = udp
route = *
options_interval = 0
[media]
rtp_ip = 127.0.0.1
port_min = 17020
port_max = 17039
recording_dir = ${dir}/recordings
[demo]
provision = yes
sdkappid = ${SDK}
ivr_id = 4500
ivr_file = ${flow}
caller = 008675512345678
credentials_file = ${dir}/creds.env
push_url = http://127.0.0.1:${server.address().port}/push
[push]
poll_ms = 100
retry_schedule = 300ms,300ms,300ms
timeout_ms = 2000
`);
  const procs = [];
  const env = {
    dir, conf, pushes,
    setHandler(h) { handler = h; },
    startCccd() {
      const p = startProc(path.join(build, "cccd"), ["--config", conf], path.join(dir, "cccd.log"));
      procs.push(p);
      return waitFor(async () => {
        if (p.exitCode !== null) throw new Error(`cccd exited:\n${env.log()}`);
        return portOpen(API_PORT);
      }, "cccd's API").then(() => p);
    },
    startPhone() {
      const p = startProc("sipp", ["-sf", path.join(root, "tests/sip/uas_answer_wait_bye.xml"),
        "-i", "127.0.0.1", "-p", "17062", "-mp", "17050", "-m", "1", "-timeout", "30s",
        "-timeout_error", "-nostdin", "-error_file", path.join(dir, "sipp-errors.log")],
      path.join(dir, "sipp.log"));
      procs.push(p);
      return p;
    },
    client() {
      const creds = Object.fromEntries(fs.readFileSync(path.join(dir, "creds.env"), "utf8")
        .split("\n").filter((l) => l.includes("=")).map((l) => l.split(/=(.*)/s).slice(0, 2)));
      const c = new tencentcloud.ccc.v20200210.Client(
        new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID,
          creds.TENCENTCLOUD_SECRET_KEY),
        "", { signMethod: "TC3-HMAC-SHA256",
          httpProfile: { protocol: "http://", endpoint: `127.0.0.1:${API_PORT}`,
            reqMethod: "POST" } });
      // The SDK answers through callbacks.
      return (action, req) => new Promise((resolve, reject) =>
        c[action](req, (err, r) => (err ? reject(err) : resolve(r))));
    },
    list() {
      return execFileSync(path.join(build, "ccc"), ["push", "list", "--config", conf, "--json"],
        { encoding: "utf8" }).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    },
    log() {
      return fs.readFileSync(path.join(dir, "cccd.log"), "utf8");
    },
  };
  t.after(async () => {
    for (const p of procs) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill("SIGKILL");
        await p.done;
      }
    }
    server.closeAllConnections();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return env;
}

async function call(env, client) {
  const phone = env.startPhone();
  await sleep(200); // sipp binds its port
  const r = await client("CreateIVRSession", { SdkAppId: SDK, Callee: "008613800138000",
    IVRId: 4500, UUI: "order=42" });
  assert.match(r.SessionId, /^[0-9a-f]{32}$/);
  return { sid: r.SessionId, phone };
}

test("cccd pushes the call record of a finished call, equal to DescribeTelCdr", async (t) => {
  const env = await setup(t);
  const cccd = await env.startCccd();
  const client = env.client();
  const t0 = Math.floor(Date.now() / 1000) - 1;
  const { sid, phone } = await call(env, client);

  const push = await waitFor(() => env.pushes.find((p) => JSON.parse(p.body).SessionId === sid),
    "the CDR push");
  assert.equal((await phone.done).code, 0, "sipp saw the call through");
  assert.equal(push.url.pathname, "/push");
  assert.equal(push.url.search, "?action=cdr&version=1");
  assert.equal(push.headers["content-type"], "application/json;charset=utf8");
  assert.match(push.headers["x-tccc-push-uuid"], /^[0-9a-f-]{36}$/);
  const body = JSON.parse(push.body);
  assert.equal(body.SdkAppId, SDK);
  assert.equal(body.Callee, "008613800138000");
  assert.equal(body.Direction, 1);
  assert.equal(body.UUI, "order=42");

  // What was pushed is what DescribeTelCdr answers (records-and-push.md §4.9).
  const cdrs = await client("DescribeTelCdr", { SdkAppId: SDK, StartTimeStamp: t0,
    EndTimeStamp: Math.floor(Date.now() / 1000) + 1, SessionIds: [sid], PageSize: 10,
    PageNumber: 0 });
  assert.equal(cdrs.TelCdrs.length, 1);
  const { SdkAppId, ...pushed } = body;
  assert.equal(SdkAppId, SDK);
  // (The SDK hands back model objects: compared as the JSON they came from.)
  assert.deepEqual(pushed, JSON.parse(JSON.stringify(cdrs.TelCdrs[0])));

  await waitFor(() => env.list().some((r) => r.sessionId === sid && r.state === "delivered"),
    "the outbox row delivered");
  cccd.kill("SIGTERM");
  assert.equal((await cccd.done).code, 0, env.log());
});

test("a CDR push in flight when cccd is killed is sent after the restart, same id",
  async (t) => {
    const env = await setup(t);
    env.setHandler(() => "hang");
    let cccd = await env.startCccd();
    const { sid } = await call(env, env.client());
    const first = await waitFor(() => env.pushes.find((p) => JSON.parse(p.body).SessionId === sid),
      "the first CDR push");
    cccd.kill("SIGKILL");
    await cccd.done;
    const row = env.list().find((r) => r.sessionId === sid);
    assert.equal(row.state, "pending");

    env.setHandler(() => ({ status: 200, body: { ErrCode: 0 } }));
    cccd = await env.startCccd();
    await waitFor(() => env.list().some((r) => r.sessionId === sid && r.state === "delivered"),
      "delivered after the restart");
    const copies = env.pushes.filter((p) => JSON.parse(p.body).SessionId === sid);
    assert.ok(copies.length >= 2);
    for (const c of copies) {
      assert.equal(c.headers["x-tccc-push-uuid"], first.headers["x-tccc-push-uuid"]);
      assert.equal(c.body, first.body);
    }
    cccd.kill("SIGTERM");
    assert.equal((await cccd.done).code, 0, env.log());
  });
