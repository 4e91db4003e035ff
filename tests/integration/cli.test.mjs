// `ccc` as tccli: `ccc ACTION --Param value` typed by the action's parameter table, arrays
// and objects as JSON, --cli-input-json, the help and the man page read from the table the
// API validates with (checked against the API's own answers, so they cannot drift), bad
// flags refused before anything is sent, and error responses on stderr with exit 1;
// `ccc task` making a task from a CSV of callees (the request as sent, refusals with the
// line, nothing sent) and showing, pausing, resuming and stopping it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import http from "node:http";
import { spawn, spawnSync } from "node:child_process";
import { CCC, startCccd } from "./lib/cccd.mjs";

let d, creds;
const A = 1400005001;

before(async () => {
  // A trunk for 0086 numbers (nothing answers on it: the sessions only need admitting).
  d = await startCccd({ sections:
    "[trunk china]\nhost = 127.0.0.1\nport = 9\ntransport = udp\nroute = 0086\noptions_interval = 0\n" });
  creds = d.addTenant(A, { ivrs: ["1:autoOutbound"], numbers: ["008601012345678"] });
});

after(async () => {
  await d?.stop();
  d?.cleanup();
});

// Runs ccc; returns {status, out, err, json} (json: stdout parsed, when it parses).
function ccc(args, env = {}) {
  const r = spawnSync(CCC, args, { encoding: "utf8",
    env: { ...process.env, ...creds, CCC_ENDPOINT: d.endpoint, ...env } });
  let json;
  try { json = JSON.parse(r.stdout); } catch { json = undefined; }
  return { status: r.status, out: r.stdout, err: r.stderr, json };
}

// The parameters `ccc help ACTION` lists: [{name, type, required, limits}].
function helpParams(action) {
  const r = ccc(["help", action]);
  assert.equal(r.status, 0, r.err);
  return r.out.split("\n").filter((l) => /^ {2}--\w/.test(l)).map((l) => {
    const m = l.match(/^ {2}--(\w+)\s+(Array of \w+|Any JSON|\w+)\s+(required|optional)\s*(.*)$/);
    assert.ok(m, `help line: ${l}`);
    return { name: m[1], type: m[2], required: m[3] === "required", limits: m[4] };
  });
}

test("ccc --help lists every action with the commands; help ACTION = ACTION --help", () => {
  const r = ccc(["--help"]);
  assert.equal(r.status, 0);
  for (const a of ["CreateIVRSession", "DescribeTelCdr", "HangUpCall", "CccdPutIVRFlow"])
    assert.match(r.out, new RegExp(`^ {2}${a} `, "m"));
  assert.match(r.out, /^ {2}call /m);
  const h = ccc(["help", "CreateIVRSession"]);
  assert.equal(h.status, 0);
  assert.equal(ccc(["CreateIVRSession", "--help"]).out, h.out);
  assert.equal(ccc(["ccc", "CreateIVRSession", "help"]).out, h.out, "tccli's `ccc ACTION help`");
  const p = Object.fromEntries(helpParams("CreateIVRSession").map((x) => [x.name, x]));
  assert.deepEqual(p.Callee, { name: "Callee", type: "String", required: true, limits: "1..32 bytes" });
  assert.equal(p.Callers.type, "Array of String");
  assert.equal(p.UUI.limits, "0..1024 bytes");
  assert.match(h.out, /^ {6}\.Key +String +required/m, "members of Variables");
  const u = ccc(["help", "NoSuchAction"]);
  assert.equal(u.status, 2);
  assert.match(u.err, /NoSuchAction/);
});

test("the help is the API's table: each action's first required parameter is what it misses", () => {
  const actions = ccc(["--help"]).out.split("\n")
    .map((l) => l.match(/^ {2}((?:Describe|Create|HangUp|Cccd)\w+) /)?.[1]).filter(Boolean);
  assert.ok(actions.length >= 20, actions.join(","));
  for (const a of actions) {
    const req = helpParams(a).filter((x) => x.required);
    const r = ccc(["call", a, "--json", "{}"]);
    if (!req.length) continue;
    const e = r.json?.Response?.Error;
    // An operator-only action may refuse the tenant before validating; others name the field.
    if (e?.Code === "UnauthorizedOperation") continue;
    assert.equal(e?.Code, "MissingParameter", `${a}: ${r.out}`);
    assert.match(e.Message, new RegExp(`\`${req[0].name}\``), a);
  }
  // A limit the help states is the one the API enforces.
  const size = helpParams("DescribeTelCdr").find((x) => x.name === "PageSize");
  assert.equal(size.limits, "1..100");
  const now = Math.floor(Date.now() / 1000);
  const over = ccc(["DescribeTelCdr", "--SdkAppId", String(A), "--StartTimeStamp", String(now - 60),
    "--EndTimeStamp", String(now), "--PageNumber", "0", "--PageSize", "101"]);
  assert.equal(over.status, 1);
  assert.match(over.err, /InvalidParameterValue.*PageSize.*1 and 100/);
});

test("tccli form: typed scalars, arrays as JSON, `ccc ccc ACTION`, --endpoint", () => {
  const r = ccc(["CccdDescribeIVRFlows", "--SdkAppId", String(A)]);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.json.Response.IVRs[0].IVRId, 1);
  const t = ccc(["ccc", "CccdDescribeIVRFlows", "--SdkAppId", String(A), "--endpoint", d.endpoint,
    "--region", "ap-guangzhou", "--output", "json"], { CCC_ENDPOINT: "127.0.0.1:9" });
  assert.equal(t.status, 0, t.err);
  const now = Math.floor(Date.now() / 1000);
  const s = ccc(["CreateIVRSession", "--SdkAppId", String(A), "--Callee", "008613800138000",
    "--IVRId", "1", "--Callers", '["008601012345678"]',
    "--Variables", '[{"Key":"name","Value":"Ann"}]', "--UUI", "x"]);
  assert.equal(s.status, 0, s.err);
  assert.match(s.json.Response.SessionId, /^[0-9a-f]{32}$/);
  const c = ccc(["DescribeTelCdr", "--SdkAppId", String(A), "--StartTimeStamp", String(now - 60),
    "--EndTimeStamp", String(now + 60), "--PageNumber", "0", "--PageSize", "10",
    "--SessionIds", JSON.stringify([s.json.Response.SessionId])]);
  assert.equal(c.status, 0, c.err);
  assert.equal(typeof c.json.Response.TotalCount, "number");
});

test("--cli-input-json FILE (file:// or a path); options given too override it", () => {
  const f = path.join(d.dir, "in.json");
  fs.writeFileSync(f, JSON.stringify({ SdkAppId: 999, Callee: "008613800138000", IVRId: 1,
    Callers: ["008601012345678"] }));
  const wrong = ccc(["CreateIVRSession", "--cli-input-json", `file://${f}`]);
  assert.equal(wrong.status, 1);
  assert.match(wrong.err, /InvalidParameterValue\.InstanceNotExist/);
  const ok = ccc(["CreateIVRSession", "--cli-input-json", f, "--SdkAppId", String(A)]);
  assert.equal(ok.status, 0, ok.err);
  assert.ok(ok.json.Response.SessionId);
  const missing = ccc(["CreateIVRSession", "--cli-input-json", path.join(d.dir, "none.json")]);
  assert.equal(missing.status, 2);
  assert.match(missing.err, /none\.json/);
});

test("bad flags: refused with exit 2 and a message naming them, nothing sent", () => {
  const cases = [
    [["CreateIVRSession", "--Calee", "1"], /no parameter --Calee/],
    [["CreateIVRSession", "--Callers", "[not json"], /--Callers must be JSON/],
    [["CreateIVRSession", "--SdkAppId"], /--SdkAppId needs a value/],
    [["CreateIVRSession", "SdkAppId=1"], /unexpected argument 'SdkAppId=1'/],
    [["CreateIVRSession", "--output", "table"], /only json/],
    [["NoSuchAction", "--X", "1"], /unknown action or command 'NoSuchAction'/],
  ];
  for (const [args, re] of cases) {
    const r = ccc(args, { CCC_ENDPOINT: "127.0.0.1:9" });
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, re);
    assert.equal(r.out, "");
  }
});

test("error responses: the JSON on stdout, code and message on stderr, exit 1", () => {
  const r = ccc(["DescribeTelSession", "--SdkAppId", "abc", "--SessionId", "x"]);
  assert.equal(r.status, 1);
  assert.equal(r.json.Response.Error.Code, "InvalidParameter");
  assert.match(r.err, /^ccc: InvalidParameter: .*`SdkAppId`/m);
  const n = ccc(["DescribeTelSession", "--SdkAppId", String(A), "--SessionId", "nope"]);
  assert.equal(n.status, 1);
  assert.match(n.err, new RegExp(`^ccc: ${n.json.Response.Error.Code}: `, "m"));
  const k = ccc(["CreateIVRSession", "--SdkAppId", String(A)], { TENCENTCLOUD_SECRET_KEY: "wrong" });
  assert.equal(k.status, 1);
  assert.match(k.err, /^ccc: AuthFailure/m);
});

test("ccc call ACTION Key=Value keeps working", () => {
  const r = ccc(["call", "CccdDescribeIVRFlows", `SdkAppId=${A}`]);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.json.Response.IVRs[0].IVRId, 1);
});

test("ccc --man: the man page from the same tables", () => {
  const r = ccc(["--man"]);
  assert.equal(r.status, 0);
  assert.match(r.out, /^\.TH CCC 1/m);
  assert.match(r.out, /^\.SS CreateIVRSession$/m);
  assert.match(r.out, /^\.B \\-\\-Callee\nString, required; 1\.\.32 bytes\.$/m);
  const committed = fs.readFileSync(new URL("../../docs/ccc.1", import.meta.url), "utf8");
  assert.equal(committed, r.out, "docs/ccc.1 is `make man`'s output (run it after a table change)");
});

// Runs ccc without blocking the loop (a server of this process answers it).
function cccAsync(args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(CCC, args, { env: { ...process.env, ...creds, CCC_ENDPOINT: d.endpoint, ...env } });
    let out = "", err = "";
    p.stdout.on("data", (b) => { out += b; });
    p.stderr.on("data", (b) => { err += b; });
    p.on("close", (status) => resolve({ status, out, err }));
  });
}

const TASK_CSV = 'Callee,UUI,name,note\n' +
  '008613800000001,u-1,Ann,"late, twice"\r\n' +
  '008613800000002,,"Bob ""B""",\n' +
  '008613800000003,,,\n';

test("ccc task create: the CSV's columns become each callee's UUI and variables", async () => {
  const csv = path.join(d.dir, "callees.csv");
  fs.writeFileSync(csv, TASK_CSV);
  // A stand-in endpoint keeps the request as sent.
  let body;
  const srv = http.createServer((req, res) => {
    let b = "";
    req.on("data", (c) => { b += c; });
    req.on("end", () => {
      body = { action: req.headers["x-tc-action"], json: JSON.parse(b) };
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ Response: { TaskId: 77, RequestId: "r" } }));
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  try {
    const r = await cccAsync(["task", "create", "--sdkappid", String(A), "--ivr", "1",
      "--callers", '["008601012345678"]', "--csv", csv, "--name", "n", "--tries", "2",
      "--retry-interval", "900", "--time-zone", "Asia/Shanghai", "--not-before", "2000000000",
      "--available-time", '[{"StartTime":"09:00:00","EndTime":"18:00:00"}]'],
      { CCC_ENDPOINT: `127.0.0.1:${srv.address().port}` });
    assert.equal(r.status, 0, r.err);
    assert.equal(r.out, "77\n");
    assert.equal(body.action, "CreateAutoCalloutTask");
    assert.deepEqual(body.json, { SdkAppId: A, IvrId: 1, Callers: ["008601012345678"],
      Tries: 2, RetryInterval: 900, AvailableTime: [{ StartTime: "09:00:00", EndTime: "18:00:00" }],
      NotBefore: 2000000000, Name: "n", TimeZone: "Asia/Shanghai",
      Callees: ["008613800000001", "008613800000002", "008613800000003"],
      CalleeAttributes: [
        { Callee: "008613800000001", UUI: "u-1", Variables: [{ Key: "name", Value: "Ann" },
          { Key: "note", Value: "late, twice" }] },
        { Callee: "008613800000002", Variables: [{ Key: "name", Value: 'Bob "B"' }] }] });
  } finally {
    srv.close();
  }
});

test("ccc task create, show, pause, resume, stop against cccd", () => {
  const csv = path.join(d.dir, "callees2.csv");
  fs.writeFileSync(csv, TASK_CSV);
  const later = String(Math.floor(Date.now() / 1000) + 86400);
  const c = ccc(["task", "create", "--sdkappid", String(A), "--ivr", "1", "--callers",
    '["008601012345678"]', "--csv", csv, "--name", "reminders", "--not-before", later]);
  assert.equal(c.status, 0, c.err);
  assert.match(c.out, /^\d+\n$/);
  const task = c.out.trim();
  const g = ccc(["DescribeAutoCalloutTask", "--SdkAppId", String(A), "--TaskId", task]);
  assert.equal(g.status, 0, g.err);
  assert.deepEqual(g.json.Response.Callees.map((x) => x.Callee),
    ["008613800000001", "008613800000002", "008613800000003"]);
  const show = (state) => {
    const s = ccc(["task", "show", "--sdkappid", String(A), "--task", task]);
    assert.equal(s.status, 0, s.err);
    assert.equal(s.out, `task ${task} "reminders": ${state}\ncallees: 3\n` +
      "  initial           3\n  answered          0\n  not answered      0\n" +
      "  calling           0\n  waiting to retry  0\n");
  };
  show("created (0)");
  const p = ccc(["task", "pause", "--sdkappid", String(A), "--task", task]);
  assert.equal(p.status, 0, p.err);
  assert.equal(p.out, `task ${task} paused\n`);
  show("paused (5)");
  assert.equal(ccc(["task", "resume", "--sdkappid", String(A), "--task", task]).status, 0);
  show("created (0)");
  assert.equal(ccc(["task", "stop", "--sdkappid", String(A), "--task", task]).status, 0);
  show("stopped (4)");
  const again = ccc(["task", "pause", "--sdkappid", String(A), "--task", task]);
  assert.equal(again.status, 1);
  assert.match(again.err, /^ccc: UnsupportedOperation: /m);
  const none = ccc(["task", "show", "--sdkappid", String(A), "--task", "999999"]);
  assert.equal(none.status, 1);
  assert.match(none.err, /TaskId/);
});

test("ccc task create: a bad CSV is refused with its line and nothing is sent", () => {
  const cases = [
    ["", /line 1: no header row/],
    ["Number,name\n1,a\n", /line 1: the first column must be Callee/],
    ["Callee,name\n1,a\n2\n", /line 3: 1 fields where the header has 2/],
    ["Callee,name\n1,a\n2,\"open\n", /line 3: a quote that is never closed/],
    ["Callee,name\n1,a\"b\n", /line 2: a quote inside an unquoted field/],
    ["Callee,name\n1,\"a\"b\n", /line 2: 'b' after a closing quote/],
    ["Callee,name\n", /line 2: no callee after the header/],
    ["Callee,name\n,a\n", /line 2: no Callee/],
    ["Callee,name,name\n1,a,b\n", /line 1: column 'name' twice/],
  ];
  const csv = path.join(d.dir, "bad.csv");
  for (const [text, why] of cases) {
    fs.writeFileSync(csv, text);
    // Port 9 answers nothing: a request would show as a connection error, not this.
    const r = ccc(["task", "create", "--sdkappid", String(A), "--ivr", "1", "--callers",
      '["008601012345678"]', "--csv", csv], { CCC_ENDPOINT: "127.0.0.1:9" });
    assert.equal(r.status, 2, `${JSON.stringify(text)}: ${r.err}`);
    assert.match(r.err, why);
    assert.match(r.err, /bad\.csv/);
  }
  const missing = ccc(["task", "create", "--sdkappid", String(A), "--ivr", "1", "--callers",
    '["1"]', "--csv", path.join(d.dir, "none.csv")], { CCC_ENDPOINT: "127.0.0.1:9" });
  assert.equal(missing.status, 2);
  assert.match(missing.err, /none\.csv: No such file/);
  const usage = ccc(["task", "show", "--sdkappid", String(A)]);
  assert.equal(usage.status, 2);
  assert.match(usage.err, /--task is required/);
});
