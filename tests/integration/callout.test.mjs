// Every business error of CreateIVRSession from a real condition, configured with the admin
// commands as an operator would, each next to a control request that passes; and a cap
// that holds under 20 concurrent requests for one callee.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, until, freePort } from "./lib/cccd.mjs";

let d, phone, next = 1400001000;
const OPEN = { work_time: { enabled: false }, blind_area: { enabled: false },
  callee_interval: { max: 0, window_s: 300 }, callee_daily: { max: 0 },
  caller_freq: { max: 0, window_s: 0 }, caller_concurrency: 0,
  blacklist: { enabled: true, entries: [] } };

before(async () => {
  phone = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"));
  d = await startCccd({ trunkPort: phone.port, sections:
    "[trunk china]\nhost = 127.0.0.1\nport = 9\ntransport = udp\nroute = 0086\noptions_interval = 0\n" });
});

after(async () => {
  await d?.stop();
  await phone?.stop();
  d?.cleanup();
});

// A tenant with its own instance, rules (merged over OPEN) and caller numbers.
function tenant(rules = {}, extra = []) {
  const sdkappid = next++;
  const file = path.join(d.dir, `rules-${sdkappid}.json`);
  fs.writeFileSync(file, JSON.stringify({ ...OPEN, ...rules }));
  const creds = d.tenant(["--sdkappid", String(sdkappid), "--ivr", "1:autoOutbound",
    "--rules", file, ...extra]);
  return { sdkappid, api: client(creds, d.endpoint), file };
}

const create = (t, callee, more = {}) =>
  t.api.CreateIVRSession({ SdkAppId: t.sdkappid, Callee: callee, IVRId: 1, ...more });

const admin = (...args) => d.ccc(["admin", "--config", d.confPath, ...args]);

test("an edition without IVR outbound: FailedOperation.PermissionDenied", async () => {
  const t = tenant({}, ["--number", "008601012345678", "--edition", "standard"]);
  const r = await create(t, "008613800138000");
  assert.equal(r.err, "FailedOperation.PermissionDenied");
  admin("instance-set", "--sdkappid", String(t.sdkappid), "--edition", "advanced");
  assert.equal((await create(t, "008613800138000")).err, undefined);
});

test("an expired package: LimitExceeded.BasePackageExpired", async () => {
  const t = tenant({}, ["--number", "008601012345678", "--package-expires", "1000"]);
  assert.equal((await create(t, "008613800138000")).err, "LimitExceeded.BasePackageExpired");
  admin("instance-set", "--sdkappid", String(t.sdkappid), "--package-expires", "0");
  assert.equal((await create(t, "008613800138000")).err, undefined);
});

test("a package expiring this very second is expired: now >= expires", async () => {
  // Early in a second, so the request is answered in the second the package expires.
  await until(() => Date.now() % 1000 < 300 || null, 2000, 20, "the start of a second");
  const now = Math.floor(Date.now() / 1000);
  const t = tenant({}, ["--number", "008601012345678", "--package-expires", String(now)]);
  const r = await create(t, "008613800138000");
  assert.equal(r.err, "LimitExceeded.BasePackageExpired", JSON.stringify(r));
  admin("instance-set", "--sdkappid", String(t.sdkappid), "--package-expires", String(now + 3600));
  assert.equal((await create(t, "008613800138000")).err, undefined);
});

test("a blacklisted callee: FailedOperation.CalleeIsBlackUser, normalised", async () => {
  const t = tenant({ blacklist: { enabled: true, entries: ["008613800138000", "+86170*"] } },
    ["--number", "008601012345678"]);
  const r = await create(t, "+86 138 0013 8000");
  assert.equal(r.err, "FailedOperation.CalleeIsBlackUser");
  assert.match(r.message, /blacklist/i);
  assert.equal((await create(t, "17012345678")).err, "FailedOperation.CalleeIsBlackUser");
  assert.equal((await create(t, "008613900139000")).err, undefined);
});

test("a callee in a blind area: FailedOperation.CalloutRuleBlindArea", async () => {
  const t = tenant({ blind_area: { enabled: true, regions: ["CN-XJ", "CN-XZ"] } },
    ["--number", "008601012345678"]);
  assert.equal((await create(t, "0086 991 1234567")).err, "FailedOperation.CalloutRuleBlindArea");
  assert.equal((await create(t, "0891 1234567")).err, "FailedOperation.CalloutRuleBlindArea");
  assert.equal((await create(t, "010 8888 6666")).err, undefined);
});

test("outside calling hours: FailedOperation.CalloutRuleNotWorkTime", async () => {
  const today = new Date().toISOString().slice(0, 10);
  const t = tenant({ work_time: { enabled: true, zone: "UTC",
    windows: [{ days: ["Mon-Sun"], start: "00:00", end: "23:59:59" }], holidays: [today] } },
  ["--number", "008601012345678"]);
  const r = await create(t, "008613800138000");
  assert.equal(r.err, "FailedOperation.CalloutRuleNotWorkTime");
  fs.writeFileSync(t.file, JSON.stringify({ ...OPEN, work_time: { enabled: true, zone: "UTC",
    windows: [{ days: ["Mon-Sun"], start: "00:00", end: "23:59:59" }] } }));
  admin("rules-set", "--sdkappid", String(t.sdkappid), t.file);
  const now = new Date();
  const lastSecond = now.getUTCHours() === 23 && now.getUTCMinutes() === 59 && now.getUTCSeconds() === 59;
  if (!lastSecond) assert.equal((await create(t, "008613800138000")).err, undefined);
});

test("too many calls to a callee in the interval, then per day", async () => {
  const t = tenant({ callee_interval: { max: 2, window_s: 300 } }, ["--number", "008601012345678"]);
  assert.equal((await create(t, "008613800138000")).err, undefined);
  assert.equal((await create(t, "008613800138000")).err, undefined);
  const r = await create(t, "+8613800138000");
  assert.equal(r.err, "FailedOperation.CalloutRuleMaxCallCountCalleeIntervalTime");
  assert.match(r.message, /2/);
  assert.equal((await create(t, "008613800138001")).err, undefined, "another callee passes");

  const u = tenant({ callee_daily: { max: 1, mode: "rolling24h" } }, ["--number", "008601012345678"]);
  assert.equal((await create(u, "008613800138000")).err, undefined);
  assert.equal((await create(u, "008613800138000")).err,
    "FailedOperation.CalloutRuleMaxCallCountCalleePerDayAppID");
});

test("no usable caller number: FailedOperation.NoCallOutNumber", async () => {
  const t = tenant({}, []);
  assert.equal((await create(t, "008613800138000")).err, "FailedOperation.NoCallOutNumber");
  const u = tenant({}, ["--number", "008601012345678"]);
  const r = await create(u, "008613800138000", { Callers: ["008601099999999"] });
  assert.equal(r.err, "FailedOperation.NoCallOutNumber");
  admin("number-set", "--sdkappid", String(u.sdkappid), "--number", "008601012345678", "--state", "4");
  assert.equal((await create(u, "008613800138000")).err, "FailedOperation.NoCallOutNumber");
  admin("number-set", "--sdkappid", String(u.sdkappid), "--number", "008601012345678", "--state", "1");
  const ok = await create(u, "008613800138000", { Callers: ["008601099999999", "+86 10 1234 5678"] });
  assert.equal(ok.err, undefined);
  const s = await u.api.DescribeTelSession({ SdkAppId: u.sdkappid, SessionId: ok.SessionId });
  assert.equal(s.Session.Caller, "00861012345678", "the owned number, normalised");
});

test("a caller number over its limit: FailedOperation.CallerOverFrequency", async () => {
  const t = tenant({ caller_freq: { max: 1, window_s: 300 } }, ["--number", "008601012345678"]);
  assert.equal((await create(t, "008613800138000")).err, undefined);
  assert.equal((await create(t, "008613800138001")).err, "FailedOperation.CallerOverFrequency");
  admin("number-set", "--sdkappid", String(t.sdkappid), "--number", "008601012345679");
  assert.equal((await create(t, "008613800138001")).err, undefined, "a second number is free");
});

test("no trunk can carry the number: FailedOperation.CallOutFailed at once", async () => {
  const t = tenant({}, ["--number", "008601012345678"]);
  // A cccd whose only trunk routes 0086 numbers: a UK number has no route.
  const dd = await startCccd({ sections:
    "[trunk china]\nhost = 127.0.0.1\nport = 9\ntransport = udp\nroute = 0086\noptions_interval = 0\n" });
  try {
    const c = client(dd.tenant(["--sdkappid", "1400002000", "--ivr", "1:autoOutbound",
      "--rules", t.file, "--number", "008601012345678"]), dd.endpoint);
    const r = await c.CreateIVRSession({ SdkAppId: 1400002000, Callee: "00442071234567", IVRId: 1 });
    assert.equal(r.err, "FailedOperation.CallOutFailed");
    const ok = await c.CreateIVRSession({ SdkAppId: 1400002000, Callee: "008613800138000", IVRId: 1 });
    assert.equal(ok.err, undefined);
    // The trunk check comes last (callout-rules.md §2): the counted and licence checks
    // still answer for a number no trunk carries, and nothing is counted for it.
    const full = client(dd.tenant(["--sdkappid", "1400002001", "--ivr", "1:autoOutbound",
      "--rules", t.file, "--edition", "standard"]), dd.endpoint);
    assert.equal((await full.CreateIVRSession({ SdkAppId: 1400002001, Callee: "00442071234567",
      IVRId: 1 })).err, "FailedOperation.PermissionDenied");
    const none = client(dd.tenant(["--sdkappid", "1400002002", "--ivr", "1:autoOutbound",
      "--rules", t.file]), dd.endpoint);
    assert.equal((await none.CreateIVRSession({ SdkAppId: 1400002002, Callee: "00442071234567",
      IVRId: 1 })).err, "FailedOperation.NoCallOutNumber");
    const capFile = path.join(dd.dir, "cap.json");
    fs.writeFileSync(capFile, JSON.stringify({ ...OPEN, caller_freq: { max: 1, window_s: 300 } }));
    const capped = client(dd.tenant(["--sdkappid", "1400002003", "--ivr", "1:autoOutbound",
      "--rules", capFile, "--number", "008601012345678"]), dd.endpoint);
    const mk = (callee) => capped.CreateIVRSession({ SdkAppId: 1400002003, Callee: callee, IVRId: 1 });
    assert.equal((await mk("00442071234567")).err, "FailedOperation.CallOutFailed");
    assert.equal((await mk("008613800138000")).err, undefined,
      "a refusal for no trunk counted nothing against the caller");
    assert.equal((await mk("00442071234567")).err, "FailedOperation.CallerOverFrequency");
  } finally {
    await dd.stop();
    dd.cleanup();
  }
});

test("20 concurrent requests for one callee never pass a cap of 5", async () => {
  const t = tenant({ callee_daily: { max: 5, mode: "rolling24h" } }, ["--number", "008601012345678"]);
  const rs = await Promise.all(Array.from({ length: 20 }, () => create(t, "008613700137000")));
  const ok = rs.filter((r) => !r.err).length;
  const capped = rs.filter((r) => r.err === "FailedOperation.CalloutRuleMaxCallCountCalleePerDayAppID").length;
  assert.equal(ok, 5);
  assert.equal(capped, 15);
});

test("every trunk for the number down by its OPTIONS check (TCP refused): FailedOperation.CallOutFailed", async () => {
  const dead = await freePort();
  const dd = await startCccd({ sections:
    `[trunk dead]\nhost = 127.0.0.1\nport = ${dead}\ntransport = tcp\nroute = *\noptions_interval = 1\n` });
  try {
    const c = client(dd.tenant(["--sdkappid", "1400002100", "--ivr", "1:autoOutbound",
      "--rules", "demo", "--number", "008601012345678"]), dd.endpoint);
    const r = await until(async () => {
      const x = await c.CreateIVRSession({ SdkAppId: 1400002100, Callee: "008613800138000", IVRId: 1 });
      return x.err === "FailedOperation.CallOutFailed" ? x : null;
    }, 15000, 500, "the trunk to be seen down");
    assert.match(r.message, /trunk/);
  } finally {
    await dd.stop();
    dd.cleanup();
  }
});

// Numbers outside China: a national Callee is read in the instance's country (default_cc)
// by that country's numbering plan, stored and dialled as 00 + country code + NSN.
test("default_cc 1, 39 and 44: national callees normalised by their country's plan", async () => {
  const callee = async (t, number) => {
    const r = await create(t, number);
    assert.equal(r.err, undefined, `${number}: ${r.message}`);
    const s = await t.api.DescribeTelSession({ SdkAppId: t.sdkappid, SessionId: r.SessionId });
    return s.Session.Callee;
  };
  const us = tenant({ default_cc: "1" }, ["--number", "+1 212 555 0199"]);
  assert.equal(await callee(us, "(212) 555-0100"), "0012125550100");
  assert.equal(await callee(us, "1 212 555 0100"), "0012125550100", "NANP's trunk 1 dropped");
  assert.equal(await callee(us, "011 44 20 7946 0958"), "00442079460958");
  assert.equal(await callee(us, "+86 138 0013 8000"), "008613800138000");
  let r = await create(us, "123 456 7890");
  assert.equal(r.err, "InvalidParameterValue");
  assert.match(r.message, /`Callee`.*numbering plan/);
  r = await create(us, "911");
  assert.equal(r.err, "InvalidParameterValue");
  const cdr = await us.api.DescribeTelCdr({ SdkAppId: us.sdkappid, StartTimeStamp:
    Math.floor(Date.now() / 1000) - 600, EndTimeStamp: Math.floor(Date.now() / 1000) + 60,
    PageSize: 100, PageNumber: 0, Phones: ["212-555-0100"] });
  assert.equal(cdr.err, undefined);
  // Records of calls already over, if any, are those of the normalised number.
  assert.ok(cdr.TelCdrList.every((c) => c.Callee === "0012125550100" || c.Caller === "0012125550100"));

  // The operator's `ccc admin --number` is read in the instance's country too.
  const it = tenant({ default_cc: "39" }, ["--number", "02 1234 5678"]);
  assert.equal(await callee(it, "06 1234 5678"), "00390612345678", "Italy's leading 0 kept");
  r = await create(it, "06 1234 5678", { Callers: ["02 1234 5678"] });
  assert.equal(r.err, undefined);
  const s = await it.api.DescribeTelSession({ SdkAppId: it.sdkappid, SessionId: r.SessionId });
  assert.equal(s.Session.Caller, "00390212345678");
  assert.equal(await callee(it, "347 123 4567"), "00393471234567");

  const gb = tenant({ default_cc: "44" }, ["--number", "+44 20 7946 0000"]);
  assert.equal(await callee(gb, "020 7946 0958"), "00442079460958", "the UK's trunk 0 dropped");
  // A Chinese instance reads the same digits by China's rules: a Guangzhou fixed line.
  const cn = tenant({}, ["--number", "008601012345678"]);
  assert.equal(await callee(cn, "020 7946 0958"), "00862079460958");
});
