// Many sessions at once, so that every thread of cccd works at the same time: API threads
// creating, describing and hanging up concurrently; the store's writer batching them; the
// hand-over to the control loop; media workers carrying RTP and RFC 4733 keys; the TTS
// thread (the demo flow's spoken prompt) and the recorder (the instance records its calls);
// the IVR's HTTP node; API threads decoding a prompt file while the loop plays it (half the
// sessions use an IVR whose prompt is a WAV file); the push thread delivering records
// while new ones are queued.
// scripts/test.sh runs this file under ThreadSanitizer too, where a race stops cccd (exit
// 66) and close() fails the test. Checked here: every session ends once with its record,
// and each record is pushed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, until, sleep, httpListen } from "./lib/cccd.mjs";

const SDKAPPID = 1400000700;
const SESSIONS = 12;        // under the API's 20 per second per account and action
const HUNG_UP = 3;          // of them hung up by HangUpCall while they run
let d, phone, api, promptDir, servers = [], pushes = [];

// A second of a 440 Hz tone as a 16 kHz 16-bit mono WAV (cccd converts it to 8 kHz G.711).
function toneWav() {
  const rate = 16000, n = rate, data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    data.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / rate)), i * 2);
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "ascii"); h.writeUInt32LE(36 + data.length, 4); h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii"); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34);
  h.write("data", 36, "ascii"); h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

// An IVR that plays a prompt file (relative to the working directory, the repository's
// root for cccd and ccc alike), then hangs up.
function fileFlow(file) {
  return JSON.stringify({ ivrId: 4600, name: "file prompt", type: "autoOutbound",
    nodes: [
      { id: "start", type: "start", next: "bye" },
      { id: "bye", type: "hangup", params: { prompt: { file }, endStatus: "ok" } },
    ] });
}

async function listen(handler) {
  const { port, server } = await httpListen(handler);
  servers.push(server);
  return port;
}

before(async () => {
  const ivrPort = await listen((req, body, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ status: "shipped", delivery: { date: "tomorrow" } }));
  });
  const pushPort = await listen((req, body, res) => {
    pushes.push({ url: req.url, body: JSON.parse(body) });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ErrCode":0,"ErrMsg":"ok"}');
  });
  phone = await sipp(path.join(ROOT, "demo/phone.xml"));
  promptDir = fs.mkdtempSync(path.join(ROOT, "build", "threads-prompts-"));
  fs.writeFileSync(path.join(promptDir, "tone.wav"), toneWav());
  fs.writeFileSync(path.join(promptDir, "4600.json"),
    fileFlow(path.join(path.relative(ROOT, promptDir), "tone.wav")));
  d = await startCccd({ trunkPort: phone.port });
  const flow = fs.readFileSync(path.join(ROOT, "demo/flows/4500.json"), "utf8")
    .replace("http://127.0.0.1:9091/ivr", `http://127.0.0.1:${ivrPort}/ivr`);
  fs.writeFileSync(path.join(d.dir, "4500.json"), flow);
  const creds = d.tenant(["--sdkappid", String(SDKAPPID), "--ivr",
    `4500:autoOutbound:${d.dir}/4500.json`, "--ivr", `4600:autoOutbound:${promptDir}/4600.json`,
    "--number", "008675512345678", "--rules", "demo"]);
  d.ccc(["admin", "--config", d.confPath, "instance-set", "--sdkappid", String(SDKAPPID),
    "--record", "yes"]);
  d.ccc(["push", "config", "--config", d.confPath, "--sdkappid", String(SDKAPPID),
    "--url", `http://127.0.0.1:${pushPort}/push`, "--events", "cdr,record"]);
  api = client(creds, d.endpoint);
});

after(async () => {
  await d?.stop();
  await phone?.stop();
  for (const s of servers) s.close();
  d?.cleanup();
  if (promptDir) fs.rmSync(promptDir, { recursive: true, force: true });
});

test("sessions created, described and hung up at once each end once, recorded and pushed",
  async () => {
    const created = await Promise.all(Array.from({ length: SESSIONS }, (_, i) =>
      api.CreateIVRSession({ SdkAppId: SDKAPPID, Callee: `+86123000000${String(i).padStart(2, "0")}`,
        IVRId: i % 2 ? 4600 : 4500, Variables: [{ Key: "OrderNo", Value: `T-${i}` }] })));
    for (const r of created) assert.equal(r.err, undefined, r.message);
    const ids = created.map((r) => r.SessionId);
    assert.equal(new Set(ids).size, SESSIONS);

    // While the calls ring and run: reads on every API thread, and a few hang-ups.
    await sleep(300);
    const reads = ids.map((id) => api.DescribeTelSession({ SdkAppId: SDKAPPID, SessionId: id }));
    const hangups = ids.slice(0, HUNG_UP).map((id) =>
      api.HangUpCall({ SdkAppId: SDKAPPID, SessionId: id }));
    for (const r of await Promise.all(reads)) assert.equal(r.err, undefined, r.message);
    for (const h of await Promise.all(hangups)) {
      // A call may have ended on its own first: then there is nothing to hang up.
      assert.ok(h.err === undefined || h.err === "FailedOperation.SessionNotExists", h.message);
    }

    for (const id of ids) await finished(api, SDKAPPID, id, 90000);
    const cdrs = await until(() => pushes.filter((p) => /action=cdr/.test(p.url)).length >= SESSIONS,
      60000, 200, "every CDR pushed");
    assert.ok(cdrs);
    const cdrPushes = pushes.filter((p) => /action=cdr/.test(p.url));
    assert.deepEqual(new Set(cdrPushes.map((p) => p.body.SessionId)), new Set(ids));
    // The answered calls were recorded, and their recordings pushed.
    const answered = cdrPushes.filter((p) => p.body.AcceptTimestamp > 0);
    assert.ok(answered.length >= SESSIONS - HUNG_UP, `${answered.length} answered`);
    await until(() => answered.every((a) => pushes.some((p) => /action=record/.test(p.url) &&
      JSON.stringify(p.body).includes(a.body.SessionId))), 30000, 200, "the recording pushes");
    assert.equal(await d.stop(), 0, d.log.slice(-4000));
  });
