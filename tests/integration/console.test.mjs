// The web console in headless Chromium (Debian's chromium, driven by puppeteer-core):
// an administrator signs in with a password, sees a live call (a sipp callee holding it)
// appear and hangs it up, finds its record and its details, opens the flow graph with the
// call's path highlighted, uploads a flow with an error and sees it on the node, edits the
// blacklist, and reads the audit log with those changes; a viewer signed in by a one-time
// link has no buttons to change anything and the API refuses it; a request without the
// CSRF token is refused; the security headers and cookie flags are those of
// docs/console.md. A screenshot of every page is written to $CCCD_TEST_OUT (else a
// temporary folder, printed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import puppeteer from "puppeteer-core";
import { ROOT, startCccd, sipp, until, finished, raw, sleep } from "./lib/cccd.mjs";

const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));
const SDK = 1400009001;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const OUT = process.env.CCCD_TEST_OUT || fs.mkdtempSync(path.join(os.tmpdir(), "cccd-console-"));

let d, peer, api, browser, base, prompts;

// Any action, signed, through the SDK's common client: the response or {err, message}.
function client(creds, endpoint = d.endpoint) {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod: "TC3-HMAC-SHA256",
      httpProfile: { protocol: "http://", endpoint, reqMethod: "POST", reqTimeout: 30 } });
  return (action, req) => new Promise((resolve) => {
    const out = { deserialize(data) { Object.assign(this, data); } };
    c.request(action, req, out, (err, resp) => {
      if (err) return resolve({ err: err.code || String(err), message: err.message });
      delete resp.deserialize;
      resolve(resp);
    });
  });
}

// The call stays in the long prompt until it is hung up; it is recorded.
const FLOW = JSON.stringify({ type: "autoOutbound", start: "s", record: true, nodes: [
  { id: "s", type: "start", next: "hello" },
  { id: "hello", type: "prompt", label: "long hello", params: { tts: "Hello. ".repeat(70) }, next: "bye" },
  { id: "bye", type: "hangup", label: "goodbye" }] });

// A WAV file of `seconds` of a 440 Hz tone, 8 kHz mono 16-bit.
function toneWav(seconds) {
  const n = 8000 * seconds, b = Buffer.alloc(44 + 2 * n);
  b.write("RIFF", 0); b.writeUInt32LE(36 + 2 * n, 4); b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24); b.writeUInt32LE(16000, 28); b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34); b.write("data", 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / 8000)), 44 + 2 * i);
  return b;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function signIn(page, user, password) {
  await page.goto(`${base}/console/`);
  await page.waitForSelector("#signin");
  await page.type("input[name=sdkappid]", String(SDK));
  await page.type("input[name=user]", user);
  await page.type("input[name=password]", password);
  await Promise.all([page.waitForSelector("#page-calls"), page.click("#signin button[type=submit]")]);
}

async function go(page, hash, selector) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  return page.waitForSelector(selector, { timeout: 20000 });
}

async function newCall() {
  const r = await api("CreateIVRSession", { SdkAppId: SDK, Callee: "008613800138000", IVRId: 1 });
  assert.equal(r.err, undefined, r.message);
  return r.SessionId;
}

before(async () => {
  console.log(`console screenshots: ${OUT}`);
  peer = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"));
  // Uploaded prompts go to a folder of the test's own (by default, the working directory's).
  prompts = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-console-prompts-"));
  d = await startCccd({ trunkPort: peer.port, sections: `[session]\nprompt_dir = ${prompts}\n` });
  base = `http://127.0.0.1:${d.apiPort}`;
  api = client(d.addTenant(SDK, { ivrs: ["1:autoOutbound"], numbers: ["008601012345678"] }));
  const put = await api("CccdPutIVRFlow", { SdkAppId: SDK, IVRId: 1, Document: FLOW, Name: "hello" });
  assert.equal(put.err, undefined, put.message);
  for (const [name, role, pw] of [["ann", "administrator", "ann-secret-1"], ["vic", "viewer", undefined]]) {
    const r = await api("CccdCreateConsoleUser", { SdkAppId: SDK, UserName: name, Role: role,
      ...(pw ? { Password: pw } : {}) });
    assert.equal(r.err, undefined, r.message);
  }
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
});

after(async () => {
  try {
    await browser?.close();
    await d?.close();
  } finally {
    await peer?.stop();
    if (prompts) fs.rmSync(prompts, { recursive: true, force: true });
  }
});

test("console users through the API: listed with roles, duplicates and bad names refused", async () => {
  const list = await api("CccdDescribeConsoleUsers", { SdkAppId: SDK });
  assert.deepEqual(list.Users.map((u) => [u.UserName, u.Role, u.HasPassword]),
    [["ann", "administrator", true], ["vic", "viewer", false]]);
  assert.equal((await api("CccdCreateConsoleUser", { SdkAppId: SDK, UserName: "ann", Role: "viewer" })).err,
    "InvalidParameterValue");
  const bad = await api("CccdCreateConsoleUser", { SdkAppId: SDK, UserName: "a b", Role: "viewer" });
  assert.equal(bad.err, "InvalidParameterValue");
  assert.match(bad.message, /UserName/);
  assert.equal((await api("CccdCreateConsoleUser", { SdkAppId: SDK, UserName: "x", Role: "boss" })).err,
    "InvalidParameterValue");
  assert.equal((await api("CccdCreateConsoleUser", { SdkAppId: SDK, UserName: "x", Role: "viewer",
    Password: "short" })).err, "InvalidParameterValue");
  // CccdModifyConsoleUser: something to change, a known user, a role, a password by the rules.
  const neither = await api("CccdModifyConsoleUser", { SdkAppId: SDK, UserName: "vic" });
  assert.equal(neither.err, "MissingParameter");
  assert.match(neither.message, /Role.*Password/);
  const nobody = await api("CccdModifyConsoleUser", { SdkAppId: SDK, UserName: "nobody", Role: "viewer" });
  assert.equal(nobody.err, "InvalidParameterValue");
  assert.match(nobody.message, /UserName/);
  assert.equal((await api("CccdModifyConsoleUser", { SdkAppId: SDK, UserName: "vic", Role: "boss" })).err,
    "InvalidParameterValue");
  assert.equal((await api("CccdModifyConsoleUser", { SdkAppId: SDK, UserName: "vic", Password: "short" })).err,
    "InvalidParameterValue");
});

test("signing in: a wrong password and no session are refused with JSON and 401", async () => {
  const wrong = await raw(d.apiPort, { path: "/console/api/login", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ SdkAppId: SDK, UserName: "ann", Password: "not-her-password" }) });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.Error.Code, "AuthFailure.InvalidCredentials");
  const nobody = await raw(d.apiPort, { path: "/console/api/login", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ SdkAppId: SDK, UserName: "vic", Password: "anything-at-all" }) });
  assert.equal(nobody.status, 401, "a user without a password signs in by link only");
  const none = await raw(d.apiPort, { path: "/console/api/DescribeTelCdr", headers: { "Content-Type": "application/json" }, body: "{}" });
  assert.equal(none.status, 401);
  assert.equal(none.body.Error.Code, "AuthFailure.NoSession");
  const page = await raw(d.apiPort, { method: "GET", path: "/console/" });
  assert.equal(page.status, 200);
  assert.match(page.headers["content-security-policy"], /default-src 'self'/);
  assert.doesNotMatch(page.headers["content-security-policy"], /unsafe-inline/);
  assert.equal(page.headers["x-frame-options"], "DENY");
  assert.match(page.body, /<script type="module" src="\/console\/app.js">/);
  assert.equal((await raw(d.apiPort, { method: "GET", path: "/console/nothing.js" })).status, 404);
});

test("an administrator: live call hung up, its record, the path on the flow, a refused flow, the audit log", async () => {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // The sign-in page asks /console/api/me first: its 401 (not signed in yet) is expected.
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 401/.test(m.text())) errors.push(m.text());
  });
  await page.goto(`${base}/console/`);
  await page.waitForSelector("#signin");
  await shot(page, "01-sign-in");
  await signIn(page, "ann", "ann-secret-1");

  // The cookie's flags.
  const cookie = (await page.cookies()).find((c) => c.name === "cccd_session");
  assert.ok(cookie, "the session cookie is set");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/console");
  assert.equal(await page.evaluate(() => document.cookie), "", "scripts cannot read the session");

  // A live call appears, and is hung up with the button.
  const id = await newCall();
  const row = `tr.call[data-session="${id}"]`;
  await page.waitForSelector(row, { timeout: 20000 });
  await until(async () => (await page.$eval(`${row} .state`, (e) => e.textContent)) === "answered" ||
    (await page.$eval(`${row} .state`, (e) => e.textContent)), 20000, 200, "the call's state");
  await shot(page, "02-live-calls");
  await page.click(`${row} button.hangup`);
  await page.waitForSelector(row, { hidden: true, timeout: 20000 });
  const s = await finished({ DescribeTelSession: (req) => api("DescribeTelSession", req) }, SDK, id);
  assert.equal(s.SessionStatus, "finished");

  // Its record, and its details.
  await go(page, "#records", "#cdr-list");
  await page.waitForSelector(`tr.cdr[data-session="${id}"]`, { timeout: 20000 });
  assert.match(await page.$eval("#cdr-list", (e) => e.textContent), /page 1 of 1 \(1 records\)/);
  await page.click(`tr.cdr[data-session="${id}"]`);
  await page.waitForSelector("#cdr-path li", { timeout: 20000 });
  const steps = await page.$$eval("#cdr-path li", (l) => l.map((e) => e.textContent));
  assert.ok(steps.some((t) => t.includes("(hello)")), steps.join("|"));
  // Its recording plays in the page: the console's own path, opened by the session.
  const audio = await page.waitForSelector("audio#recording", { timeout: 10000 });
  const src = await audio.evaluate((a) => a.getAttribute("src"));
  assert.equal(src, `/console/api/recording/${id}`);
  const got = await page.evaluate(async (u) => {
    const r = await fetch(u);
    return { status: r.status, type: r.headers.get("Content-Type"), size: (await r.arrayBuffer()).byteLength };
  }, src);
  assert.equal(got.status, 200);
  assert.equal(got.type, "audio/wav");
  assert.ok(got.size > 44, `a WAV with samples: ${got.size} bytes`);
  await until(() => audio.evaluate((a) => a.readyState >= 1 && a.duration > 0), 10000, 100,
    "the player to load the recording");
  assert.equal((await raw(d.apiPort, { method: "GET", path: src })).status, 401, "no session, no recording");
  const ours = `cccd_session=${cookie.value}`;
  assert.equal((await raw(d.apiPort, { method: "GET", path: src, headers: { Cookie: ours } })).status, 200);
  assert.equal((await raw(d.apiPort, { method: "GET", path: `/console/api/recording/${"0".repeat(32)}`,
    headers: { Cookie: ours } })).status, 404, "no such session");
  await shot(page, "03-call-records");
  // The outcome filter is the server's (CccdEndStatus): its code shows it, another hides it.
  const code = (await api("DescribeTelCdr", { SdkAppId: SDK, StartTimeStamp: Math.floor(Date.now() / 1000) - 600,
    EndTimeStamp: Math.floor(Date.now() / 1000) + 60, PageSize: 10, PageNumber: 0 })).TelCdrList[0].EndStatus;
  for (const [value, count] of [[String(code), 1], [code === 206 ? "205" : "206", 0]]) {
    await page.select("#cdr-status", value);
    await page.click("#cdr-filter button[type=submit]");
    await until(async () => (await page.$eval("#cdr-list", (e) => e.textContent)).includes(`(${count} records)`),
      10000, 100, `${count} records of EndStatus ${value}`);
  }
  await page.select("#cdr-status", "");

  // The flow graph with the path.
  await page.click("#show-on-flow");
  await page.waitForSelector('g.node.on-path[data-node="hello"]', { timeout: 20000 });
  assert.ok(await page.$('g.node.on-path[data-node="s"]'));
  assert.equal(await page.$('g.node.on-path[data-node="bye"]'), null);
  assert.ok(await page.$('path.edge.on-path[data-from="s"][data-to="hello"]'));
  await shot(page, "04-flow-path");

  // A flow with an error: drawn with the finding on its node, and not stored.
  const broken = JSON.stringify({ type: "autoOutbound", start: "s", nodes: [
    { id: "s", type: "start", next: "ask" },
    { id: "ask", type: "prompt", params: { tts: "hi" }, next: "nowhere" }] });
  await page.type("#flow-upload-ivr", "1");
  await page.$eval("#flow-doc", (e, v) => { e.value = v; }, broken);
  await page.click("#flow-upload");
  await page.waitForSelector('g.node.finding[data-node="ask"]', { timeout: 10000 });
  assert.match(await page.$eval("#flow-upload-result", (e) => e.textContent), /nowhere/);
  await shot(page, "05-flow-finding");
  const flows = await api("CccdDescribeIVRFlows", { SdkAppId: SDK });
  assert.equal(flows.IVRs[0].Version, 2, "the refused flow was not stored");

  // Calling rules and blacklist: one number added.
  await go(page, "#rules", "#blacklist-add");
  await page.type("#blacklist-add", "008613900000001");
  await page.click("#blacklist-add-button");
  await until(async () => (await page.$eval("#blacklist", (e) => e.textContent)).includes("008613900000001"),
    10000, 100, "the blacklist entry");
  await shot(page, "06-rules");
  // Numbers and audio: a number changed with the form; a WAV file uploaded from this
  // computer, then listed and playable by its name in flows.
  await go(page, "#numbers", "#audio");
  await page.select("#number-modify select[name=enabled]", "true");
  await page.click("#number-modify button[type=submit]");
  await until(async () => /is saved/.test(await page.$eval("#number-result", (e) => e.textContent)),
    10000, 100, "the number saved");
  const wav = path.join(d.dir, "greeting.wav");
  fs.writeFileSync(wav, toneWav(1));
  const input = await page.$("#audio-upload input[type=file]");
  await input.uploadFile(wav);
  await page.type("#audio-upload input[name=name]", "greeting");
  await page.click("#audio-upload button[type=submit]");
  await page.waitForSelector('tr.audio-file[data-name="greeting"]', { timeout: 20000 });
  assert.match(await page.$eval("#audio-upload-result", (e) => e.textContent), /greeting is uploaded/);
  const files = await api("DescribeIvrAudioList", { SdkAppId: SDK, PageSize: 10, PageNumber: 0 });
  assert.deepEqual(files.FileInfo.map((f) => [f.CustomFileName, f.AudioFileName]), [["greeting", "greeting.wav"]]);
  // The same bytes again: refused with the reason, shown.
  await page.type("#audio-upload input[name=name]", "again");
  await (await page.$("#audio-upload input[type=file]")).uploadFile(wav);
  await until(async () => {
    await page.click("#audio-upload button[type=submit]");
    await sleep(1100); // UploadIvrAudio: 1 request a second per instance
    return /duplicate/.test(await page.$eval("#audio-upload-result", (e) => e.textContent));
  }, 20000, 100, "the duplicate refused");
  await shot(page, "07-numbers");

  // A task created with the form, due tomorrow: listed with its progress, paused, resumed
  // and stopped from the page.
  await go(page, "#tasks", "#task-create");
  await page.type("#task-create input[name=name]", "tomorrow");
  await page.type("#task-create input[name=ivr]", "1");
  await page.type("#task-create input[name=callers]", "008601012345678");
  await page.$eval("#task-create input[name=from]", (e) => {
    const d = new Date(Date.now() + 86400000);
    e.value = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  });
  await page.$eval("#task-create input[name=start]", (e) => { e.value = "09:00:00"; });
  await page.$eval("#task-create input[name=end]", (e) => { e.value = "18:00:00"; });
  await page.type("#task-create textarea[name=callees]", "008613800138001\n008613800138002");
  await page.click("#task-create button[type=submit]");
  await until(async () => /Task \d+ is created/.test(await page.$eval("#task-create-result", (e) => e.textContent)),
    10000, 100, `the task created: ${await page.$eval("#task-create-result", (e) => e.textContent)}`);
  const taskId = Number(/Task (\d+)/.exec(await page.$eval("#task-create-result", (e) => e.textContent))[1]);
  const made = await api("DescribeAutoCalloutTask", { SdkAppId: SDK, TaskId: taskId });
  assert.equal(made.Name, "tomorrow");
  assert.equal(made.IvrId, 1);
  assert.deepEqual(made.Callees.map((c) => c.Callee), ["008613800138001", "008613800138002"]);
  const taskRow = `#tasks tr[data-task="${taskId}"]`;
  await page.waitForSelector("#task-detail table");
  assert.match(await page.$eval("#task-detail", (e) => e.textContent), /2 callees · 2 initial/);
  const shows = (re, what) => until(async () => re.test(await page.$eval(taskRow, (e) => e.textContent)),
    10000, 100, `the task to show ${what}`);
  await page.click(`${taskRow} button.pause`);
  await shows(/paused/, "paused");
  await shot(page, "08-tasks");
  await page.click(`${taskRow} button.resume`);
  await shows(/created|running/, "resumed");
  await page.click(`${taskRow} button.stop`);
  await shows(/stopped|ending/, "stopped");

  // The audit log has each change, with its user and outcome.
  await go(page, "#audit", "tr.audit-entry");
  const audit = await page.$$eval("tr.audit-entry", (rows) => rows.map((r) =>
    [...r.querySelectorAll("td")].map((t) => t.textContent)));
  const has = (action, result) => audit.some((r) => r[1] === "ann" && r[2] === action && r[3] === result);
  assert.ok(has("SignIn", "ok"), JSON.stringify(audit));
  assert.ok(has("HangUpCall", "ok"), JSON.stringify(audit));
  assert.ok(has("CccdPutIVRFlow", "InvalidParameterValue"), JSON.stringify(audit));
  assert.ok(has("CccdModifyBlacklist", "ok"), JSON.stringify(audit));
  assert.ok(has("PauseAutoCalloutTask", "ok"), JSON.stringify(audit));
  for (const a of ["CccdModifyNumber", "UploadIvrAudio", "CreateAutoCalloutTask", "ResumeAutoCalloutTask",
    "StopAutoCalloutTask"])
    assert.ok(has(a, "ok"), `${a}: ${JSON.stringify(audit)}`);
  assert.ok(!audit.some((r) => /Describe/.test(r[2])), "reads are not audited");
  await shot(page, "09-audit");
  const viaApi = await api("CccdDescribeConsoleAudit", { SdkAppId: SDK });
  assert.ok(viaApi.Entries.some((e) => e.Action === "HangUpCall" && e.Summary.includes(id)));

  // Without the CSRF header, the same session is refused.
  const jar = `cccd_session=${cookie.value}`;
  const noCsrf = await raw(d.apiPort, { path: "/console/api/CccdModifyBlacklist",
    headers: { "Content-Type": "application/json", Cookie: jar }, body: JSON.stringify({ Add: ["008613900000002"] }) });
  assert.equal(noCsrf.status, 403);
  assert.equal(noCsrf.body.Error.Code, "AuthFailure.CsrfToken");
  const me = await raw(d.apiPort, { method: "GET", path: "/console/api/me", headers: { Cookie: jar } });
  assert.equal(me.status, 200);
  assert.equal(me.headers["cache-control"], "no-store");
  const wrongCsrf = await raw(d.apiPort, { path: "/console/api/CccdModifyBlacklist",
    headers: { "Content-Type": "application/json", Cookie: jar, "X-CSRF-Token": "0".repeat(64) },
    body: JSON.stringify({ Add: ["008613900000002"] }) });
  assert.equal(wrongCsrf.status, 403);
  const ok = await raw(d.apiPort, { path: "/console/api/CccdDescribeBlacklist",
    headers: { "Content-Type": "application/json", Cookie: jar, "X-CSRF-Token": me.body.CsrfToken }, body: "{}" });
  assert.equal(ok.status, 200);
  assert.ok(!JSON.stringify(ok.body).includes("008613900000002"));
  // Operator and account-wide actions are not the console's, even for an administrator.
  const cred = await raw(d.apiPort, { path: "/console/api/CccdCreateCredential",
    headers: { "Content-Type": "application/json", Cookie: jar, "X-CSRF-Token": me.body.CsrfToken }, body: "{}" });
  assert.equal(cred.status, 403);

  assert.deepEqual(errors, [], "no script errors in the pages");
  await page.close();
});

// What a page's button leaves in #users-message once the server answered.
async function usersSay(page, re) {
  await until(async () => re.test(await page.$eval("#users-message", (e) => e.textContent)), 20000, 100,
    `the message ${re}`);
}

test("an administrator manages console users in the console: create, role, password, delete", async () => {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await signIn(page, "ann", "ann-secret-1");
  await go(page, "#users", 'tr.user[data-user="ann"]');
  // Their own row: no role change, no delete.
  assert.equal(await page.$('tr.user[data-user="ann"] button.delete'), null);
  assert.equal(await page.$eval('tr.user[data-user="ann"] select', (e) => e.disabled), true);

  // A password that breaks the rules is said so, and nothing is created.
  await page.type("#user-create input[name=user]", "sam");
  await page.select("#user-create select[name=role]", "supervisor");
  await page.type("#user-create input[name=password]", "short");
  await page.click("#user-create button[type=submit]");
  await usersSay(page, /8 to 128 bytes/);
  assert.equal(await page.$('tr.user[data-user="sam"]'), null);
  await page.$eval("#user-create input[name=password]", (e) => { e.value = ""; });
  await page.type("#user-create input[name=password]", "sam-secret-1");
  await page.click("#user-create button[type=submit]");
  await page.waitForSelector('tr.user[data-user="sam"]', { timeout: 20000 });
  let list = await api("CccdDescribeConsoleUsers", { SdkAppId: SDK });
  assert.deepEqual(list.Users.filter((u) => u.UserName === "sam").map((u) => [u.Role, u.HasPassword]),
    [["supervisor", true]]);
  await shot(page, "11-users");

  // Sam signs in; then sam's role changes (at once, in the open session) and sam's password
  // is reset (the session ends, the old password no longer works, the new one does).
  const login = (pw) => raw(d.apiPort, { path: "/console/api/login", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ SdkAppId: SDK, UserName: "sam", Password: pw }) });
  const first = await login("sam-secret-1");
  assert.equal(first.status, 200);
  const samJar = first.headers["set-cookie"][0].split(";")[0];
  await page.select('tr.user[data-user="sam"] select', "viewer");
  await page.click('tr.user[data-user="sam"] button.set-role');
  await usersSay(page, /sam is now viewer/);
  const me = await raw(d.apiPort, { method: "GET", path: "/console/api/me", headers: { Cookie: samJar } });
  assert.equal(me.body.Role, "viewer", "the new role applies to the open session");
  await page.type('tr.user[data-user="sam"] input[name=password]', "sam-secret-2");
  await page.click('tr.user[data-user="sam"] button.reset-password');
  await usersSay(page, /password is reset/);
  assert.equal((await raw(d.apiPort, { method: "GET", path: "/console/api/me", headers: { Cookie: samJar } })).status,
    401, "a new password ends the user's sessions");
  assert.equal((await login("sam-secret-1")).status, 401);
  assert.equal((await login("sam-secret-2")).status, 200);

  // Deleted: gone from the list and from the store.
  await page.click('tr.user[data-user="sam"] button.delete');
  await page.waitForSelector('tr.user[data-user="sam"]', { hidden: true, timeout: 20000 });
  list = await api("CccdDescribeConsoleUsers", { SdkAppId: SDK });
  assert.ok(!list.Users.some((u) => u.UserName === "sam"));

  // Each change is in the audit log, the passwords are not.
  const audit = (await api("CccdDescribeConsoleAudit", { SdkAppId: SDK, Limit: 100 })).Entries
    .filter((e) => e.UserName === "ann" && /ConsoleUser$/.test(e.Action));
  for (const a of ["CccdCreateConsoleUser", "CccdModifyConsoleUser", "CccdDeleteConsoleUser"])
    assert.ok(audit.some((e) => e.Action === a && e.Result === "ok"), `${a} audited: ${JSON.stringify(audit)}`);
  assert.ok(!audit.some((e) => /sam-secret/.test(e.Summary)), "no password in the audit log");
  assert.deepEqual(errors, [], "no script errors in the pages");
  await ctx.close();
});

test("a viewer signed in by a one-time link: no buttons to change anything, and the API refuses", async () => {
  const link = await api("CccdCreateConsoleLoginURL", { SdkAppId: SDK, UserName: "vic" });
  assert.equal(link.err, undefined, link.message);
  assert.match(link.URL, /\/console\/#login=[0-9a-f]{64}$/);
  const url = new URL(link.URL);
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(`${base}/console/${url.hash}`);
  await page.waitForSelector("#page-calls", { timeout: 20000 });
  assert.equal(await page.evaluate(() => location.hash), "#calls", "the token left the address bar");
  assert.match(await page.$eval("#who", (e) => e.textContent), /vic \(viewer\)/);

  const id = await newCall();
  await page.waitForSelector(`tr.call[data-session="${id}"]`, { timeout: 20000 });
  assert.equal(await page.$("button.hangup"), null, "no hang-up button for a viewer");
  await shot(page, "10-viewer-calls");
  await go(page, "#flows", "#flow-graph");
  assert.equal(await page.$("#flow-upload"), null);
  await go(page, "#rules", "#blacklist table");
  assert.equal(await page.$("#rules-save"), null);
  assert.equal(await page.$("#blacklist-add"), null);
  assert.equal(await page.$eval("#rules-doc", (e) => e.readOnly), true);
  await go(page, "#numbers", "#audio table");
  assert.equal(await page.$("#audio-upload"), null, "no upload for a viewer");
  assert.equal(await page.$("#number-modify"), null, "no number form for a viewer");
  await go(page, "#tasks", "#tasks table");
  assert.equal(await page.$("#task-create"), null, "no task form for a viewer");
  assert.equal(await page.$("#tasks button.pause"), null);
  await go(page, "#audit", "#audit table");
  assert.equal(await page.$("#nav-users"), null, "no Users page for a viewer");
  await go(page, "#users", "#page-calls");

  // The API refuses what the buttons would have done.
  const refused = await page.evaluate(async (sid) => {
    const me = await (await fetch("/console/api/me")).json();
    const r = await fetch("/console/api/HangUpCall", { method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": me.CsrfToken },
      body: JSON.stringify({ SessionId: sid }) });
    return { status: r.status, body: await r.json() };
  }, id);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.Error.Code, "UnauthorizedOperation.Role");
  for (const [action, params] of [["CccdDescribeConsoleUsers", {}],
    ["CccdCreateConsoleUser", { UserName: "eve", Role: "administrator", Password: "eve-secret-1" }],
    ["CccdModifyConsoleUser", { UserName: "vic", Role: "administrator" }],
    ["CccdDeleteConsoleUser", { UserName: "ann" }],
    ["UploadIvrAudio", { AudioList: [{ CustomFileName: "x", CccdAudioData: "UklGRg==" }] }],
    ["CccdModifyNumber", { Number: "008601012345678", Enabled: false }],
    ["CreateAutoCalloutTask", { NotBefore: 0, Callees: ["008613800138001"], Callers: ["008601012345678"], IvrId: 1 }]]) {
    const r = await page.evaluate(async (a, p) => {
      const me = await (await fetch("/console/api/me")).json();
      const x = await fetch(`/console/api/${a}`, { method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": me.CsrfToken }, body: JSON.stringify(p) });
      return { status: x.status, body: await x.json() };
    }, action, params);
    assert.equal(r.status, 403, action);
    assert.equal(r.body.Error.Code, "UnauthorizedOperation.Role", action);
  }
  const h = await api("HangUpCall", { SdkAppId: SDK, SessionId: id });
  assert.equal(h.err, undefined, "the call was still up: the viewer's request changed nothing");

  // The link signs in once.
  const again = await raw(d.apiPort, { path: "/console/api/link", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ Token: url.hash.slice("#login=".length) }) });
  assert.equal(again.status, 401);
  assert.equal(again.body.Error.Code, "AuthFailure.LinkInvalid");
  await ctx.close();
});

test("signing out, idling, expiry and deleting the user end a session; an expired link fails", async () => {
  const login = await raw(d.apiPort, { path: "/console/api/login", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ SdkAppId: SDK, UserName: "ann", Password: "ann-secret-1" }) });
  assert.equal(login.status, 200);
  const setCookie = login.headers["set-cookie"][0];
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.match(setCookie, /Path=\/console/);
  assert.doesNotMatch(setCookie, /Secure/, "plain HTTP listener");
  const jar = setCookie.split(";")[0];
  const hdr = { "Content-Type": "application/json", Cookie: jar, "X-CSRF-Token": login.body.CsrfToken };
  assert.equal((await raw(d.apiPort, { path: "/console/api/logout", headers: hdr, body: "{}" })).status, 200);
  assert.equal((await raw(d.apiPort, { method: "GET", path: "/console/api/me", headers: { Cookie: jar } })).status, 401);

  // A session idle for 30 minutes has ended; so has one past its 12 hours.
  for (const set of ["last_used_at = last_used_at - 1800", "expires_at = created_at"]) {
    const l = await raw(d.apiPort, { path: "/console/api/login", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ SdkAppId: SDK, UserName: "ann", Password: "ann-secret-1" }) });
    const j = l.headers["set-cookie"][0].split(";")[0];
    d.sql(`UPDATE console_sessions SET ${set}`);
    const gone = await raw(d.apiPort, { method: "GET", path: "/console/api/me", headers: { Cookie: j } });
    assert.equal(gone.status, 401, set);
    assert.equal(gone.body.Error.Code, "AuthFailure.SessionExpired");
  }
  // A link past its expiry signs nobody in.
  const late = await api("CccdCreateConsoleLoginURL", { SdkAppId: SDK, UserName: "vic", ExpiresIn: 30 });
  d.sql("UPDATE console_links SET expires_at = expires_at - 60 WHERE used_at = 0");
  const expired = await raw(d.apiPort, { path: "/console/api/link", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ Token: late.URL.split("#login=")[1] }) });
  assert.equal(expired.status, 401);

  const again = await raw(d.apiPort, { path: "/console/api/login", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ SdkAppId: SDK, UserName: "ann", Password: "ann-secret-1" }) });
  const jar2 = again.headers["set-cookie"][0].split(";")[0];
  assert.equal((await api("CccdDeleteConsoleUser", { SdkAppId: SDK, UserName: "ann" })).err, undefined);
  assert.equal((await raw(d.apiPort, { method: "GET", path: "/console/api/me", headers: { Cookie: jar2 } })).status, 401);
});

test("failed sign-ins are limited per user and per address; a flood of them leaves the API its threads", async () => {
  const dd = await startCccd({});
  try {
    const c = client(dd.addTenant(SDK, {}), dd.endpoint);
    for (const [name, pw] of [["lim", "lim-secret-1"], ["okuser", "ok-secret-1"]])
      assert.equal((await c("CccdCreateConsoleUser", { SdkAppId: SDK, UserName: name, Role: "viewer",
        Password: pw })).err, undefined);
    const login = (name, pw) => raw(dd.apiPort, { path: "/console/api/login",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ SdkAppId: SDK, UserName: name, Password: pw }) });

    // A flood: at most a quarter of the 4 API threads check passwords; the others are
    // answered 503 at once, and a signed request is served meanwhile.
    const t0 = Date.now();
    const [flood, cdr] = await Promise.all([
      Promise.all(Array.from({ length: 6 }, (_, i) => login(`flood${i}`, "wrong-password"))),
      (async () => { await sleep(50); const r = await c("DescribeTelCdr", { SdkAppId: SDK, StartTimeStamp: Math.floor(t0 / 1000) - 60,
        EndTimeStamp: Math.floor(t0 / 1000) + 60, PageSize: 10, PageNumber: 0 }); return { r, ms: Date.now() - t0 }; })()]);
    const busy = flood.filter((r) => r.status === 503);
    assert.ok(busy.length >= 1, `some sign-ins refused as busy: ${flood.map((r) => r.status)}`);
    assert.equal(busy[0].body.Error.Code, "ResourceUnavailable.SignInBusy");
    assert.equal(busy[0].headers["retry-after"], "1");
    assert.ok(flood.every((r) => r.status === 503 || r.status === 401), flood.map((r) => r.status).join());
    assert.equal(cdr.r.err, undefined, cdr.r.message);
    console.log(`flood: ${busy.length} of 6 sign-ins answered 503; DescribeTelCdr answered in ${cdr.ms} ms`);

    // Five failures for one user: the sixth try waits, even with the right password.
    for (let i = 0; i < 5; i++) assert.equal((await login("lim", "wrong-password")).status, 401);
    const blocked = await login("lim", "lim-secret-1");
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.Error.Code, "AuthFailure.TooManyFailures");
    assert.match(blocked.body.Error.Message, /for this user: try again in \d+ s/);
    const retry = Number(blocked.headers["retry-after"]);
    assert.ok(retry > 280 && retry <= 300, `Retry-After ${retry}`);
    // Another user from the same address may still sign in; a success resets its count.
    for (let i = 0; i < 4; i++) assert.equal((await login("okuser", "wrong-password")).status, 401);
    assert.equal((await login("okuser", "ok-secret-1")).status, 200);
    for (let i = 0; i < 4; i++) assert.equal((await login("okuser", "wrong-password")).status, 401);
    assert.equal((await login("okuser", "ok-secret-1")).status, 200, "4 failures after a success do not block");

    // The address: 20 failures within 5 minutes, whatever the names, then it waits too —
    // one-time links included.
    let addr;
    for (let i = 0; i < 20 && !addr; i++) {
      const r = await login(`nobody${i}`, "wrong-password");
      if (r.status === 429) addr = r;
      else assert.equal(r.status, 401);
    }
    assert.ok(addr, "the address is limited");
    assert.match(addr.body.Error.Message, /from this address/);
    assert.equal((await login("okuser", "ok-secret-1")).status, 429, "a right password waits too");
    const link = await raw(dd.apiPort, { path: "/console/api/link", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ Token: "0".repeat(64) }) });
    assert.equal(link.status, 429);
    assert.ok(Number(link.headers["retry-after"]) > 0);
  } finally {
    await dd.close();
  }
});

test("the demo makes a console administrator and prints how to sign in", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-console-demo-"));
  const dd = await startCccd({ sections: `[demo]\nprovision = yes\ncredentials_file = ${dir}/creds.env\n` });
  try {
    await dd.waitLog(/cccd web console: http:\/\/127\.0\.0\.1:\d+\/console\//, "the console's address is printed", 15000);
    const pw = /user admin, password (\S+)/.exec(dd.log)[1];
    assert.match(fs.readFileSync(`${dir}/creds.env`, "utf8"), new RegExp(`^CCCD_CONSOLE_PASSWORD=${pw}$`, "m"));
    const login = await raw(dd.apiPort, { path: "/console/api/login", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ SdkAppId: 1400000000, UserName: "admin", Password: pw }) });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.Role, "administrator");
  } finally {
    await dd.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
