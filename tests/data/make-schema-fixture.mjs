// Makes the upgrade test's fixture: a database written by an older release, with data.
//
//   git archive <commit> | tar -x -C /tmp/cccd-prev && make -C /tmp/cccd-prev -j2 \
//     build/release/cccd build/release/ccc
//   unshare -n bash -c 'ip link set lo up; OLD=/tmp/cccd-prev VERSION=12 \
//     node tests/data/make-schema-fixture.mjs'
//
// It runs the old release's own cccd and ccc: a tenant with IVRs and push settings, then
// calls that are answered with a key pressed, busy, and unanswered (CANCEL), each with its
// record and push. It writes schema-vN.sql (sqlite3 .dump), schema-vN.key (the master key
// that seals the fixture's secrets: a test key, nothing else uses it), and schema-vN.json
// (the credentials and what the old release's API answered for each session).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, client, sipp, freePort, portRange, until, sleep, httpListen } from "../integration/lib/cccd.mjs";

const OLD = process.env.OLD;
const VERSION = process.env.VERSION;
assert.ok(OLD && VERSION, "OLD=<old tree, built> VERSION=<its schema version>");
const SDKAPPID = 1400012000;
const CALLER = "008675512345678";
const SIP = (n) => path.join(ROOT, "tests/sip", n);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-fixture-"));

const push = await httpListen((req, body, res) => {
  res.setHeader("content-type", "application/json");
  res.end('{"ErrCode":0,"ErrMsg":""}');
});
const peers = {
  answer: await sipp(SIP("uas_answer_rfc4733_bye.xml"), { args: ["-m", "1"] }),
  busy: await sipp(SIP("uas_busy.xml"), { args: ["-m", "1"] }),
  noanswer: await sipp(SIP("uas_noanswer.xml"), { args: ["-m", "1"] }),
};
const rtp = await portRange(20);
const apiPort = await freePort(), sipPort = await freePort();
const conf = path.join(dir, "cccd.conf");
const trunk = (name, port, prefix) => [`[trunk ${name}]`, "host = 127.0.0.1", `port = ${port}`,
  `route = ${prefix}`, "options_interval = 0"];
fs.writeFileSync(conf, ["[api]", `listen = 127.0.0.1:${apiPort}`, "[store]", `path = ${dir}/cccd.db`,
  "[sip]", `listen = udp 127.0.0.1:${sipPort}`, "[media]", "rtp_ip = 127.0.0.1",
  `port_min = ${rtp.min}`, `port_max = ${rtp.max}`, `recording_dir = ${dir}/rec`,
  "[push]", "poll_ms = 100",
  ...trunk("answer", peers.answer.port, "0086139000001"),
  ...trunk("busy", peers.busy.port, "0086139000002"),
  ...trunk("noanswer", peers.noanswer.port, "0086139000003"), ""].join("\n"));

const menu = { ivrId: 10, name: "menu", type: "autoOutbound", start: "s", nodes: [
  { id: "s", type: "start", next: "m" },
  { id: "m", type: "menu", label: "key menu", params: { prompt: { tts: "Press one." },
    timeoutMs: 8000, retries: 0, keys: { 1: { label: "one", next: "bye" } } },
    onTimeout: "bye", onInvalid: "bye" },
  { id: "bye", type: "hangup" }] };
const short = { ivrId: 11, name: "short", type: "autoOutbound", start: "s", nodes: [
  { id: "s", type: "start", next: "h" }, { id: "h", type: "hangup" }] };
for (const f of [menu, short]) fs.writeFileSync(path.join(dir, `${f.ivrId}.json`), JSON.stringify(f));
const rules = path.join(dir, "rules.json");
const open = { work_time: { enabled: false }, callee_interval: { max: 0 }, callee_daily: { max: 0 },
  caller_freq: { max: 0 }, caller_concurrency: 0 };
fs.writeFileSync(rules, JSON.stringify({ ...open, own: open }));

const ccc = (args) => execFileSync(path.join(OLD, "build/release/ccc"), args, { cwd: OLD, encoding: "utf8" });
let log = "";
const cccd = spawn(path.join(OLD, "build/release/cccd"), ["--config", conf], { cwd: OLD,
  stdio: ["ignore", "pipe", "pipe"] });
cccd.stdout.on("data", (b) => { log += b; });
cccd.stderr.on("data", (b) => { log += b; });
await until(() => /running/.test(log), 15000, 50, "the old cccd");

const creds = Object.fromEntries(ccc(["admin", "--config", conf, "tenant-add", "--sdkappid",
  String(SDKAPPID), "--rules", rules, "--ivr", `10:autoOutbound:${dir}/10.json`,
  "--ivr", `11:autoOutbound:${dir}/11.json`, "--number", CALLER]).trim().split("\n").map((l) => l.split("=")));
ccc(["push", "config", "--config", conf, "--sdkappid", String(SDKAPPID), "--url",
  `http://127.0.0.1:${push.port}/push`]);
const api = client(creds, `127.0.0.1:${apiPort}`);

const made = [];
for (const [callee, ivr, extra] of [["008613900000100", 10, {}], ["008613900000200", 11, {}],
  ["008613900000300", 11, { MaxRingTimeoutSecond: 2 }]]) {
  const r = await api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: callee, IVRId: ivr,
    Variables: [{ Key: "OrderNo", Value: `A-${callee.slice(-3)}` }], UUI: "fixture", ...extra });
  assert.equal(r.err, undefined, `${r.err} ${r.message}`);
  made.push(r.SessionId);
}
const sessions = {}, cdrs = {};
for (const id of made) {
  sessions[id] = await until(async () => {
    const q = await api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: id });
    return q.Session && q.Session.SessionStatus === "finished" ? q.Session : null;
  }, 60000, 200, `session ${id}`);
}
await sleep(2000); // the pushes go out
const now = Math.floor(Date.now() / 1000);
const list = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 3600,
  EndTimeStamp: now + 60, PageSize: 100, PageNumber: 0 });
for (const c of list.TelCdrList) cdrs[c.SessionId] = c;
assert.equal(Object.keys(cdrs).length, made.length);

cccd.kill("SIGTERM");
await new Promise((r) => cccd.once("exit", r));
for (const p of Object.values(peers)) await p.stop();
push.server.close();
rtp.release();

const out = path.join(ROOT, "tests/data");
// .dump leaves out the schema version, which is what the new cccd migrates from
const version = execFileSync("sqlite3", [`${dir}/cccd.db`, "PRAGMA user_version"], { encoding: "utf8" }).trim();
assert.equal(version, VERSION, "the old release's schema version");
fs.writeFileSync(path.join(out, `schema-v${VERSION}.sql`),
  execFileSync("sqlite3", [`${dir}/cccd.db`, ".dump"], { encoding: "utf8" }) +
  `PRAGMA user_version=${version};\n`);
fs.copyFileSync(`${dir}/cccd.db.key`, path.join(out, `schema-v${VERSION}.key`));
fs.writeFileSync(path.join(out, `schema-v${VERSION}.json`), JSON.stringify({
  sdkappid: SDKAPPID, caller: CALLER, secretId: creds.TENCENTCLOUD_SECRET_ID,
  secretKey: creds.TENCENTCLOUD_SECRET_KEY, sessions, cdrs }, null, 1) + "\n");
fs.rmSync(dir, { recursive: true, force: true });
console.log(`schema-v${VERSION}: ${made.length} sessions`);
