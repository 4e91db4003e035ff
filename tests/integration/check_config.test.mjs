// cccd --check-config: the file read as a start reads it, every error named with its line,
// exit 0 or 1 — and nothing started: no port bound, no database or directory made.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { ROOT, CCCD, freePort } from "./lib/cccd.mjs";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-check-"));
process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));

function check(text, args = null) {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  fs.writeFileSync(file, text);
  const r = spawnSync(CCCD, args ? args(file) : ["--check-config", "--config", file],
    { cwd: ROOT, encoding: "utf8" });
  return { file, code: r.status, out: r.stdout, err: r.stderr };
}

// The line of the first line of text that starts with prefix (1-based).
const lineOf = (text, prefix) => text.split("\n").findIndex((l) => l.startsWith(prefix)) + 1;

test("the demo config is ok, in both spellings", () => {
  for (const args of [["--check-config", "--config", "demo/cccd.conf"],
    ["--check-config", "demo/cccd.conf"]]) {
    const r = spawnSync(CCCD, args, { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "demo/cccd.conf: ok\n");
  }
});

test("a good config binds nothing and writes nothing", async () => {
  const port = await freePort();
  const held = net.createServer().listen(port, "127.0.0.1");
  await new Promise((r) => held.once("listening", r));
  try {
    const text = ["[api]", `listen = 127.0.0.1:${port}`, "[store]", `path = ${dir}/db/cccd.db`,
      "[sip]", `listen = udp 127.0.0.1:${port}`, "[media]", `recording_dir = ${dir}/rec`,
      "[trunk a]", "host = 127.0.0.1", "port = 5080", "route = *", ""].join("\n");
    const r = check(text);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `${r.file}: ok\n`);
    assert.ok(!fs.existsSync(`${dir}/db`), "no database directory made");
    assert.ok(!fs.existsSync(`${dir}/rec`), "no recording directory made");
  } finally {
    held.close();
  }
});

test("every bad section and unknown key is named with its line", () => {
  const text = ["[log]", "level = loud", "[api]", "listen = nowhere", "[sip]",
    "listen = udp 127.0.0.1:5060", "[trunk a]", "host = 127.0.0.1", "port = 99999",
    "[push]", "retry_schedule = 10s,soon", "[records]", "colour = blue", "[nosuch]", "x = 1", ""]
    .join("\n");
  const r = check(text);
  assert.equal(r.code, 1);
  assert.equal(r.out, "");
  const expect = [
    [lineOf(text, "level ="), /'level' must be one of debug, info, warn, error, not 'loud'/],
    [lineOf(text, "listen = nowhere"), /'listen' must be a numeric address/],
    [lineOf(text, "port = 99999"), /'port' must be between 1 and 65535/],
    [lineOf(text, "retry_schedule"), /retry_schedule/],
    [lineOf(text, "colour"), /unknown key 'colour' in \[records\]/],
    [lineOf(text, "[nosuch]"), /unknown section \[nosuch\]/],
  ];
  for (const [line, re] of expect) {
    const l = r.err.split("\n").find((x) => x.startsWith(`${r.file}:${line}: `));
    assert.ok(l, `an error at line ${line}:\n${r.err}`);
    assert.match(l, re);
  }
  assert.match(r.err, new RegExp(`${r.file}: ${expect.length} errors\n$`));
});

test("what a start would meet: data files, files to read", () => {
  const bad = path.join(dir, "blind");
  fs.mkdirSync(bad);
  fs.writeFileSync(path.join(bad, "CN-XX.txt"), "not a prefix\n");
  const text = ["[store]", `path = ${dir}/x.db`, "[policy]", `locations = ${bad}`,
    "[demo]", "provision = yes", `ivr_file = ${dir}/none.json`,
    `credentials_file = ${dir}/creds.env`, ""].join("\n");
  const r = check(text);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`:${lineOf(text, "ivr_file")}: \\[demo\\] ivr_file: cannot read .*none\\.json`));
  assert.match(r.err, new RegExp(`:${lineOf(text, "locations")}: \\[policy\\] locations: .*CN-XX`));
});

test("a bad [tasks] zone_prefix line is named with its line and what is wrong", () => {
  for (const [bad, re] of [["zone_prefix = +82 Mars/Olympus", /zone 'Mars\/Olympus' is not a time zone/],
    ["zone_prefix = 82 Asia/Seoul", /prefix '82' is not an international prefix/]]) {
    const text = ["[tasks]", "zone_prefix = +81 Asia/Tokyo", bad, ""].join("\n");
    const r = check(text);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`${r.file}:3: zone_prefix: `));
    assert.match(r.err, re);
  }
  const ok = check("[tasks]\nzone_prefix = +81 Asia/Tokyo\nzone_prefix = 001212 America/New_York\n");
  assert.equal(ok.code, 0, ok.err);
});

test("a file that is not there; usage errors", () => {
  const r = spawnSync(CCCD, ["--check-config", "--config", `${dir}/absent.conf`], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /absent\.conf: cannot open .*: No such file or directory/);
  const u = spawnSync(CCCD, ["--check-config", "a", "b"], { encoding: "utf8" });
  assert.equal(u.status, 2);
  assert.match(u.stderr, /^usage: cccd/);
  const h = spawnSync(CCCD, ["--help"], { encoding: "utf8" });
  assert.equal(h.status, 0);
  assert.match(h.stdout, /SIGHUP rereads FILE/);
});

// A start that cannot bind its SIP port ends with exit 1 and says why — the user agent's
// trunks were never made, and tearing it down once crashed on them.
test("a SIP port in use ends the start with exit 1, not a crash", async () => {
  const { default: dgram } = await import("node:dgram");
  const sipPort = await freePort();
  const held = dgram.createSocket("udp4");
  await new Promise((r) => held.bind(sipPort, "127.0.0.1", r));
  try {
    const text = ["[api]", `listen = 127.0.0.1:${await freePort()}`, "[admin]", "listen =",
      "[store]", `path = ${dir}/busy/cccd.db`, "[sip]", `listen = udp 127.0.0.1:${sipPort}`,
      "[trunk t1]", "host = 127.0.0.1", "port = 5999", "route = *",
      "[media]", "port_min = 41000", "port_max = 41009", ""].join("\n");
    const r = check(text, (file) => ["--config", file]);
    assert.equal(r.code, 1, `exit status (signal means a crash):\n${r.err}`);
    assert.match(r.err, /cannot listen for SIP on 127\.0\.0\.1:\d+/);
  } finally {
    held.close();
  }
});
