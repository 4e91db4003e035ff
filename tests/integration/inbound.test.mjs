// Inbound calls: an INVITE to a number bound to an inbound IVR is answered into that IVR
// (a real sipp caller), and its record says so; an unknown number is refused with 404;
// a number bound with `ccc admin number-set` works without a restart.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, until } from "./lib/cccd.mjs";

const SDKAPPID = 1400003000;
const NUMBER = "008675587654321";
let d, api;

function call(scenario, number) {
  return spawnSync("sipp", ["-sf", path.join(ROOT, "tests/sip", scenario), "-s", number,
    "-i", "127.0.0.1", "-p", "0", "-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin",
    `127.0.0.1:${d.sipPort}`], { encoding: "utf8", timeout: 30000 });
}

before(async () => {
  d = await startCccd();
  const flow = {
    ivrId: 77, name: "inbound line", type: "inbound", start: "start",
    nodes: [
      { id: "start", type: "start", next: "hello" },
      { id: "hello", type: "prompt", label: "welcome",
        params: { tts: "Welcome to the support line. Please hold while we look at your call.",
          plays: 10 }, next: "bye" },
      { id: "bye", type: "hangup" },
    ],
  };
  fs.writeFileSync(path.join(d.dir, "77.json"), JSON.stringify(flow));
  api = client(d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", `77:inbound:${d.dir}/77.json`,
    "--rules", "demo"]), d.endpoint);
});

after(async () => {
  await d?.stop();
  d?.cleanup();
});

test("an unknown number gets 404", () => {
  const r = call("uac_unknown.xml", "008675500000000");
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("a bound number is answered into its inbound IVR, without a restart", async () => {
  d.ccc(["admin", "--config", d.confPath, "number-set", "--sdkappid", String(SDKAPPID),
    "--number", NUMBER, "--outbound", "no", "--inbound-ivr", "77"]);
  // The inbound table is re-read every 5 s.
  const r = await until(() => {
    const x = call("uac_inbound.xml", "+8675587654321");
    return x.status === 0 ? x : null;
  }, 15000, 1000, "the number to answer");
  assert.equal(r.status, 0);

  const now = Math.floor(Date.now() / 1000);
  const cdr = await until(async () => {
    const l = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 600,
      EndTimeStamp: now + 60, PageSize: 10, PageNumber: 0 });
    return l.TotalCount >= 1 ? l.TelCdrList[0] : null;
  }, 10000, 200, "the inbound call's record");
  assert.equal(cdr.Direction, 0);
  assert.equal(cdr.CallType, 2);
  assert.equal(cdr.Callee, NUMBER);
  assert.equal(cdr.Caller, "008613800000000");
  assert.equal(cdr.UUI, "hello");
  assert.equal(cdr.EndStatus, 102, "the caller hung up during the IVR");
  assert.equal(cdr.EndStatusString, "ivrGiveUp");
  assert.equal(cdr.HungUpSide, "user");
  assert.ok(cdr.AcceptTimestamp > 0);
});
