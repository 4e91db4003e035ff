// No lost session: under a load of CreateIVRSession requests with live calls (a sipp
// phone answering), cccd is killed with SIGKILL and restarted. Every session that got a
// reply must then have a final record and exactly one CDR push content (retries may repeat
// a push, always with the same id and body), and the counts must match exactly.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ROOT, startCccd, client, sipp, until, sleep, httpListen } from "./lib/cccd.mjs";

const SDKAPPID = 1400004000;
let d, phone, api, server, pushes = [];

before(async () => {
  const receiver = await httpListen((req, body, res) => {
    pushes.push({ id: req.headers["x-tccc-push-uuid"], body });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0}');
  });
  server = receiver.server;
  const pushPort = receiver.port;
  phone = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"));
  // resume_max_age is retired (a session whose INVITE left is never dialled again): an
  // old configuration that sets it still starts.
  d = await startCccd({ trunkPort: phone.port, sections: "[session]\nresume_max_age = 600\n" });
  api = client(d.tenant(["--sdkappid", String(SDKAPPID), "--ivr", "1:autoOutbound",
    "--number", "008601012345678", "--rules", "demo"]), d.endpoint);
  d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(SDKAPPID),
    "--url", `http://127.0.0.1:${pushPort}/push`, "--events", "cdr"]);
});

after(async () => {
  await d?.stop();
  await phone?.stop();
  server?.close();
  d?.cleanup();
});

test("kill -9 under load: every acknowledged session ends with one final record", async () => {
  const acked = [];
  // 60 requests at 15 per second (under the 20/s limit) for about 4 s; the kill lands in
  // the middle, with calls ringing, answered and in the IVR, and requests in flight.
  const sends = [];
  for (let i = 0; i < 60; i++) {
    sends.push(api.CreateIVRSession({ SdkAppId: SDKAPPID, IVRId: 1,
      Callee: `0086138001${String(i).padStart(5, "0")}` }).then((r) => {
      if (r.SessionId) acked.push(r.SessionId);
    }));
    if (i === 35) await d.kill();
    await sleep(66);
  }
  await Promise.all(sends);
  assert.ok(acked.length >= 30, `${acked.length} acknowledged before the kill`);
  await d.start();

  // Every acknowledged session reaches a final record.
  const now = Math.floor(Date.now() / 1000);
  await until(async () => {
    const l = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 600,
      EndTimeStamp: now + 600, PageSize: 100, PageNumber: 0 });
    return l.TotalCount === acked.length ? l : null;
  }, 60000, 500, "every acknowledged session to be finished");
  const l = await api.DescribeTelCdr({ SdkAppId: SDKAPPID, StartTimeStamp: now - 600,
    EndTimeStamp: now + 600, PageSize: 100, PageNumber: 0 });
  assert.deepEqual(l.TelCdrList.map((c) => c.SessionId).sort(), [...acked].sort());
  for (const c of l.TelCdrList)
    assert.ok([0, 1].includes(c.EndStatus) && c.HungUpSide === "system",
      `${c.SessionId}: EndStatus ${c.EndStatus} ${c.HungUpSide}`);

  // Exactly one push content per session, the same as its record.
  await until(() => new Set(pushes.map((p) => JSON.parse(p.body).SessionId)).size === acked.length,
    30000, 200, "every record to be pushed");
  const bySession = new Map();
  for (const p of pushes) {
    const s = JSON.parse(p.body).SessionId;
    if (!bySession.has(s)) bySession.set(s, new Set());
    bySession.get(s).add(p.id + p.body);
  }
  for (const [s, contents] of bySession)
    assert.equal(contents.size, 1, `${s} was pushed with ${contents.size} different contents`);
  assert.equal(bySession.size, acked.length);
});
