// scripts/cluster.sh as a user runs it (docs/cluster.md): in a network namespace of its own
// (its ports are the demo's fixed ones), with var/ in a temporary folder (CCCD_VAR). Once it
// says the cluster is up, the seed's example request goes to nginx at 127.0.0.1:8080 with
// the credentials file it wrote, the call is made through a node and Kamailio to the
// simulated phone and finishes; then SIGINT (Ctrl-C) stops every process it started and
// removes its PostgreSQL cluster. Needs root (unshare -n) and Kamailio, and runs in the
// release pass only (the script runs build/release); skips otherwise, saying why.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, CCC, VARIANT, until } from "./lib/cccd.mjs";
import { kamailioMissing } from "./lib/edge.mjs";

const skip = VARIANT !== "release" ? "scripts/cluster.sh runs the release build: the release pass tests it" :
  process.getuid() !== 0 ? "needs root (unshare -n)" : kamailioMissing();
const VAR = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-cdemo-"));
let proc = null, out = "";

after(async () => {
  if (proc && proc.exitCode === null && !proc.signalCode) {
    const done = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await Promise.race([done, new Promise((r) => setTimeout(r, 30000).unref())]);
  }
  fs.rmSync(VAR, { recursive: true, force: true });
});

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ccc call ACTION JSON inside the cluster's namespace, with the credentials file's variables.
function ccc(action, body) {
  const env = { ...process.env };
  for (const l of fs.readFileSync(path.join(VAR, "demo-credentials.env"), "utf8").trim().split("\n")) {
    const i = l.indexOf("=");
    env[l.slice(0, i)] = l.slice(i + 1);
  }
  return JSON.parse(execFileSync("nsenter", ["-t", String(proc.pid), "-n", CCC, "call", action,
    "--json", JSON.stringify(body)], { env, encoding: "utf8", timeout: 30000 }));
}

test("scripts/cluster.sh: the seed's request through nginx makes a call; Ctrl-C stops it all", { skip: skip || false, timeout: 240000 }, async () => {
  proc = spawn("unshare", ["-n", "bash", "-c", "ip link set lo up; exec scripts/cluster.sh"],
    { cwd: ROOT, env: { ...process.env, CCCD_VAR: VAR }, stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout.on("data", (b) => { out += b; });
  proc.stderr.on("data", (b) => { out += b; });
  const C = path.join(VAR, "cluster");
  await until(() => {
    if (proc.exitCode !== null) throw new Error(`cluster.sh exited ${proc.exitCode}:\n${out}`);
    return /The cccd cluster is up/.test(out);
  }, 180000, 200, `the cluster to start:\n${out}`);

  const creds = fs.readFileSync(path.join(VAR, "demo-credentials.env"), "utf8");
  assert.match(creds, /^CCC_ENDPOINT=127\.0\.0\.1:8080$/m, "the credentials name nginx");
  const r = ccc("CreateIVRSession", { Callee: "008612300000000", SdkAppId: 1400000000, IVRId: 4500 });
  const id = r.Response.SessionId;
  assert.ok(id, JSON.stringify(r));
  const s = await until(() => {
    const x = ccc("DescribeTelSession", { SdkAppId: 1400000000, SessionId: id }).Response.Session;
    return x && x.SessionStatus === "finished" ? x : null;
  }, 60000, 500, `session ${id} to finish:\n${out}`);
  assert.ok(s, JSON.stringify(s));
  const cdr = ccc("DescribeTelCdr", { SdkAppId: 1400000000, StartTimeStamp: Math.floor(Date.now() / 1000) - 600,
    EndTimeStamp: Math.floor(Date.now() / 1000) + 60, PageSize: 10, PageNumber: 0, SessionIds: [id] }).Response;
  assert.equal(cdr.TelCdrList[0].EndStatus, 1, JSON.stringify(cdr));

  // Everything it started, by the pid files it keeps.
  const pids = ["node1", "node2", "node3", "kamailio", "nginx"].map((n) =>
    Number(fs.readFileSync(path.join(C, `${n}.pid`), "utf8").trim()));
  pids.forEach((p) => assert.ok(alive(p), `pid ${p} runs`));
  const pg = fs.realpathSync(path.join(C, "pg"));
  const exited = new Promise((r) => proc.once("exit", (code, sig) => r(code ?? sig)));
  proc.kill("SIGINT");
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("hung"), 60000).unref())]);
  assert.notEqual(code, "hung", `cluster.sh did not stop on SIGINT:\n${out}`);
  await until(() => pids.every((p) => !alive(p)), 10000, 100, "every process of the cluster to stop");
  assert.ok(!fs.existsSync(pg), "its PostgreSQL cluster is removed");
});
