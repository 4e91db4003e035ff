// edge: the cluster's front ends as docs/cluster.md runs them, started from the files in
// deploy/ in a temporary folder on free loopback ports: Kamailio (the SIP edge,
// deploy/kamailio/kamailio.cfg, its parameters as -A defines and a dispatcher list of the
// nodes) and nginx (the API balancer, deploy/nginx/cccd-api.conf with its addresses
// rewritten). Every wait is bounded; stop() ends the process and its folder.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { ROOT, freePort, until } from "./cccd.mjs";

// Debian's kamailio package, or the reason there is none (the caller skips with it).
export function kamailioMissing() {
  const r = spawnSync("kamailio", ["-v"], { encoding: "utf8" });
  return r.status === 0 ? null : "kamailio is not installed (scripts/install-deps.sh installs it)";
}

// A process group of its own (Kamailio and nginx fork workers that hold its output pipes):
// stop() ends the whole group, so no worker outlives the test.
function child(cmd, args, dir) {
  const proc = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const p = { proc, dir, log: "" };
  proc.stdout.on("data", (b) => { p.log += b; });
  proc.stderr.on("data", (b) => { p.log += b; });
  p.exited = new Promise((r) => proc.once("exit", (code, sig) => r(code ?? sig)));
  const group = (sig) => {
    try { process.kill(-proc.pid, sig); } catch { /* gone */ }
  };
  p.stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      group("SIGTERM");
      const t = setTimeout(() => group("SIGKILL"), 5000);
      await p.exited;
      clearTimeout(t);
    }
    group("SIGKILL");
    proc.stdout.destroy();
    proc.stderr.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return p;
}

// Kamailio on 127.0.0.1:<free port> in front of nodes [{id, sipPort}] (dispatcher set 1).
// opts.pingInterval: seconds between OPTIONS probes (1; in-dialog keep-alives stay at the
// config's 30 s, the dialog module's least). Returns {port, log, nodeDown(sipPort), nodeUp(sipPort), stop()}:
// nodeDown/nodeUp wait for the dispatcher's event for that node.
export async function startKamailio(nodes, opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-edge-"));
  const list = path.join(dir, "nodes.list");
  fs.writeFileSync(list, nodes.map((n) => `1 sip:127.0.0.1:${n.sipPort} 0 0 duid=${n.id}`).join("\n") + "\n");
  const port = opts.port || await freePort();
  const k = child("kamailio", ["-f", path.join(ROOT, "deploy/kamailio/kamailio.cfg"), "-DD", "-E",
    "-m", "32", "-M", "4", "-P", path.join(dir, "kamailio.pid"), "-Y", dir, "-w", dir,
    "-A", `LISTEN=udp:127.0.0.1:${port}`, "-A", `NODES_LIST="${list}"`,
    "-A", `PING_INTERVAL=${opts.pingInterval || 1}`, "-A", `CTL_SOCKET="unix:${dir}/ctl"`], dir);
  k.port = port;
  // kamcmd on its control socket: k.ctl("dispatcher.list") is its text.
  k.ctl = (...cmd) => spawnSync("kamcmd", ["-s", `unix:${dir}/ctl`, ...cmd], { encoding: "utf8", timeout: 10000 }).stdout;
  const event = (what, sipPort) => new RegExp(`cccd node sip:127\\.0\\.0\\.1:${sipPort} ${what}`, "g");
  const count = (re) => (k.log.match(re) || []).length;
  // Waits for the next such event after the ones already logged.
  const waitEvent = (what) => (sipPort, timeoutMs = 15000) => {
    const re = event(what, sipPort), seen = count(re);
    return until(() => count(re) > seen, timeoutMs, 50, `Kamailio's ${what} for node ${sipPort}:\n${k.log.slice(-3000)}`);
  };
  k.nodeDown = waitEvent("down");
  k.nodeUp = waitEvent("up");
  await until(() => {
    if (k.proc.exitCode !== null) throw new Error(`kamailio exited ${k.proc.exitCode}:\n${k.log}`);
    return fs.existsSync(path.join(dir, "kamailio.pid"));
  }, 10000, 50, "kamailio to start");
  return k;
}

function connectOk(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    c.on("connect", () => { c.destroy(); resolve(true); });
    c.on("error", () => resolve(false));
  });
}

// nginx on 127.0.0.1:<free port> in front of the nodes' API ports, from
// deploy/nginx/cccd-api.conf. Returns {port, endpoint, log, stop()}.
export async function startNginx(apiPorts) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-nginx-"));
  const port = await freePort();
  const site = fs.readFileSync(path.join(ROOT, "deploy/nginx/cccd-api.conf"), "utf8")
    .replace(/^(\s*)server 127\.0\.0\.1:8081 (.*)$/m, apiPorts.map((p) => `$1server 127.0.0.1:${p} $2`).join("\n"))
    .replace(/^\s*server 127\.0\.0\.1:808[23] .*\n/gm, "")
    .replace("listen 127.0.0.1:8080;", `listen 127.0.0.1:${port};`);
  fs.writeFileSync(path.join(dir, "cccd-api.conf"), site);
  fs.writeFileSync(path.join(dir, "nginx.conf"), [
    "worker_processes 1;", `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log warn;`,
    "events { worker_connections 256; }",
    "http {", "access_log off;",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${dir}/${t};`),
    `include ${dir}/cccd-api.conf;`, "}", ""].join("\n"));
  const n = child("nginx", ["-p", dir, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`, "-g", "daemon off;"], dir);
  n.port = port;
  n.endpoint = `127.0.0.1:${port}`;
  await until(async () => {
    if (n.proc.exitCode !== null) throw new Error(`nginx exited ${n.proc.exitCode}:\n${n.log}`);
    return connectOk(port);
  }, 10000, 50, "nginx to listen");
  return n;
}
