// The actions a TCCC IVR customer uses besides calls, through the official SDK (#17):
// UploadIvrAudio from a local HTTP server (WAV and MP3 converted, a file too big, a wrong
// type, an HTTP error, a URL that times out, the daily limit, the 1/s rate, loopback and a
// redirect to it refused when loopback is not allowed), DescribeIvrAudioList's paging and
// filters, flows naming uploads by fileId and customFileName, CccdDeleteIvrAudio refused
// while a current flow plays the file, an uploaded prompt heard in a real call (its RTP
// correlates with the upload), DescribeNumbers, DescribeTelCallInfo and
// DescribeCallInMetrics.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { ROOT, startCccd, client, sipp, finished, freePort, sleep } from "./lib/cccd.mjs";
import { rtpSink, audioOf, bestCorrelation, wavSamples } from "./lib/rtp.mjs";

const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));

const A = 1400017001, B = 1400017002;
const SIP = (n) => path.join(ROOT, "tests/sip", n);
let d, api, apiB, common, media, prompts, web, webPort, peerPort, chirp;

// An action the SDK has no method for (Cccd*), through its common request.
function commonClient(creds, endpoint) {
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

// The files the uploads fetch. Listens on every address, so that an address added to lo
// (the redirect test) reaches it too.
function serve(req, res) {
  const u = new URL(req.url, "http://x");
  const file = (name, type) => {
    res.writeHead(200, { "content-type": type });
    res.end(fs.readFileSync(path.join(media, name)));
  };
  switch (u.pathname) {
  case "/chirp.wav": return file("chirp.wav", "audio/wav");
  case "/stereo.wav": return file("stereo.wav", "audio/wav");
  case "/chirp.mp3": return file("chirp.mp3", "audio/mpeg");
  case "/big.wav":
    res.writeHead(200, { "content-type": "audio/wav" });
    return res.end(Buffer.alloc(5 * 1024 * 1024 + 1000, 1));
  case "/page.wav":
    res.writeHead(200, { "content-type": "audio/wav" });
    return res.end("<html>this is not audio</html>");
  case "/slow.wav":
    res.writeHead(200, { "content-type": "audio/wav" });
    res.write("RIFF");
    return; // never ends
  case "/redirect":
    res.writeHead(302, { location: `http://127.0.0.1:${webPort}/chirp.wav` });
    return res.end();
  default:
    res.writeHead(404);
    return res.end("no");
  }
}

before(async () => {
  media = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-audio-src-"));
  prompts = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-audio-prompts-"));
  // A chirp: no two stretches of it look alike, so a correlation finds its one place.
  execFileSync("sox", ["-n", "-r", "8000", "-c", "1", "-b", "16", path.join(media, "chirp.wav"),
    "synth", "1.2", "sine", "200-3000", "vol", "0.5"]);
  execFileSync("sox", ["-n", "-r", "44100", "-c", "2", "-b", "16", path.join(media, "stereo.wav"),
    "synth", "0.8", "sine", "400-900", "vol", "0.5"]);
  fs.copyFileSync(path.join(ROOT, "tests/data/chirp.mp3"), path.join(media, "chirp.mp3"));
  chirp = wavSamples(path.join(media, "chirp.wav"));
  webPort = await freePort();
  web = http.createServer(serve);
  await new Promise((r) => web.listen(webPort, "0.0.0.0", r));
  peerPort = await freePort();
  d = await startCccd({
    apiLines: ["upload_allow_loopback = yes", "upload_timeout = 3"],
    sections: `[session]\nstop_wait = 2\nprompt_dir = ${prompts}\n` +
      `[trunk peer]\nhost = 127.0.0.1\nport = ${peerPort}\ntransport = udp\nroute = *\noptions_interval = 0\n`,
  });
  const credsA = d.addTenant(A, { ivrs: ["20:autoOutbound", "21:autoOutbound"],
    numbers: ["008675512340001", "008675512340002", "008675512340003"] });
  api = client(credsA, d.endpoint);
  common = commonClient(credsA, d.endpoint);
  apiB = client(d.addTenant(B, { ivrs: ["1:autoOutbound"], numbers: ["008675512349999"] }), d.endpoint);
});

after(async () => {
  await d?.close();
  web?.closeAllConnections?.();
  web?.close();
  for (const dir of [media, prompts]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const url = (p) => `http://127.0.0.1:${webPort}${p}`;
// UploadIvrAudio allows 1 request/s per instance: space them.
let lastUpload = 0;
async function upload(client, req) {
  const wait = lastUpload + 1100 - Date.now();
  if (wait > 0) await sleep(wait);
  const r = await client.UploadIvrAudio(req);
  lastUpload = Date.now();
  return r;
}

let wavId, mp3Id;

test("UploadIvrAudio: WAV and MP3 converted; too big, wrong type, HTTP error and timeout fail per file", async () => {
  const t0 = Date.now();
  const r = await upload(api, { SdkAppId: A, AudioList: [
    { CustomFileName: "welcome", AudioUrl: url("/chirp.wav") },
    { CustomFileName: "music", AudioUrl: url("/chirp.mp3?v=1") },
    { CustomFileName: "stereo", AudioUrl: url("/stereo.wav") },
    { CustomFileName: "huge", AudioUrl: url("/big.wav") },
    { CustomFileName: "page", AudioUrl: url("/page.wav") },
    { CustomFileName: "gone", AudioUrl: url("/missing.wav") },
    { CustomFileName: "ftp", AudioUrl: "ftp://127.0.0.1/x.wav" },
    { CustomFileName: "slow", AudioUrl: url("/slow.wav") },
  ] });
  assert.equal(r.err, undefined, r.message);
  assert.ok(Date.now() - t0 < 10000, "the request's fetch time is bounded (upload_timeout = 3)");
  assert.deepEqual(r.SuccessFileList.map((f) => [f.CustomFileName, f.AudioFileName, f.Status]),
    [["welcome", "chirp.wav", 1], ["music", "chirp.mp3", 1], ["stereo", "stereo.wav", 1]]);
  for (const f of r.SuccessFileList) assert.equal(typeof f.FileId, "number");
  [wavId, mp3Id] = r.SuccessFileList.map((f) => f.FileId);
  const failed = Object.fromEntries(r.FailedFileList.map((f) => [f.FileName, f.FailedMsg]));
  assert.deepEqual(Object.keys(failed), ["huge", "page", "gone", "ftp", "slow"]);
  assert.match(failed.huge, /^too big/);
  assert.match(failed.page, /^wrong type/);
  assert.match(failed.gone, /HTTP status 404/);
  assert.match(failed.ftp, /only http and https/);
  assert.match(failed.slow, /^timeout/);
  // Converted once: 8 kHz mono 16-bit WAV under the prompt folder.
  const rows = d.rows(`SELECT file_id, path FROM ivr_audio WHERE sdkappid = ${A} ORDER BY file_id`);
  assert.equal(rows.length, 3);
  for (const row of rows) {
    const info = execFileSync("soxi", [path.join(prompts, row.path)], { encoding: "utf8" });
    assert.match(info, /Sample Rate\s*: 8000/);
    assert.match(info, /Channels\s*: 1/);
    assert.match(info, /Precision\s*: 16-bit/);
  }
  const mp3 = wavSamples(path.join(prompts, rows[1].path));
  assert.ok(mp3.length > 7000 && mp3.length < 9500, `the 1 s MP3 gives ${mp3.length} samples`);
});

test("UploadIvrAudio: 1 request/s, duplicates, an empty list and another tenant's instance are refused", async () => {
  await upload(api, { SdkAppId: A, AudioList: [{ CustomFileName: "again", AudioUrl: url("/chirp.wav") }] })
    .then((r) => {
      assert.equal(r.err, undefined, r.message);
      assert.equal(r.SuccessFileList.length, 0);
      assert.match(r.FailedFileList[0].FailedMsg, /duplicate/);
    });
  const r = await api.UploadIvrAudio({ SdkAppId: A, AudioList: [{ CustomFileName: "x", AudioUrl: url("/stereo.wav") }] });
  assert.equal(r.err, "RequestLimitExceeded");
  assert.equal((await upload(api, { SdkAppId: A, AudioList: [] })).err, "InvalidParameterValue");
  assert.equal((await upload(apiB, { SdkAppId: A, AudioList: [{ CustomFileName: "x", AudioUrl: url("/chirp.wav") }] })).err,
    "InvalidParameterValue.InstanceNotExist");
  assert.equal((await upload(api, { SdkAppId: A, AudioList: [{ CustomFileName: "x" }] })).err, "MissingParameter");
});

test("UploadIvrAudio: the 1/s is per instance: two instances of one account upload in the same second", async () => {
  const C = 1400017003;
  d.addTenant(C, {});
  d.sql(`UPDATE instances SET account_id = (SELECT account_id FROM instances WHERE sdkappid = ${A}) WHERE sdkappid = ${C}`);
  const wait = lastUpload + 1100 - Date.now();
  if (wait > 0) await sleep(wait);
  const [ra, rc] = await Promise.all([
    api.UploadIvrAudio({ SdkAppId: A, AudioList: [{ CustomFileName: "dupA", AudioUrl: url("/chirp.wav") }] }),
    api.UploadIvrAudio({ SdkAppId: C, AudioList: [{ CustomFileName: "onC", AudioUrl: url("/chirp.wav") }] })]);
  assert.equal(ra.err, undefined, ra.message);
  assert.equal(rc.err, undefined, rc.message);
  assert.equal(rc.SuccessFileList.length, 1, JSON.stringify(rc));
  const again = await api.UploadIvrAudio({ SdkAppId: C, AudioList: [{ CustomFileName: "x", AudioUrl: url("/stereo.wav") }] });
  lastUpload = Date.now();
  assert.equal(again.err, "RequestLimitExceeded");
  assert.match(again.message, /per instance; instance 1400017003/);
  d.sql(`DELETE FROM ivr_audio WHERE sdkappid = ${C}`);
});

test("UploadIvrAudio: at most half the API threads fetch at once; the others are refused, not queued", async () => {
  // [api] threads = 4 here: two fetches of a file that never ends hold their threads for
  // upload_timeout (3 s); a third instance's upload meanwhile is refused at once.
  const wait = lastUpload + 1100 - Date.now();
  if (wait > 0) await sleep(wait);
  const slow = (c, id) => c.UploadIvrAudio({ SdkAppId: id, AudioList: [{ CustomFileName: "slow", AudioUrl: url("/slow.wav") }] });
  let heldDone = false;
  const held = [slow(api, A), slow(apiB, B)];
  Promise.all(held).then(() => { heldDone = true; });
  await sleep(500);
  const third = await slow(api, 1400017003);
  assert.equal(third.err, "RequestLimitExceeded", JSON.stringify(third));
  assert.match(third.message, /as many uploads at once/);
  assert.equal(heldDone, false, "refused while the two fetches still hold their threads, not queued behind them");
  for (const r of await Promise.all(held)) {
    assert.equal(r.err, undefined, r.message);
    assert.equal(r.FailedFileList.length, 1);
  }
  lastUpload = Date.now();
});

test("UploadIvrAudio: 50 files a day per instance (FailedOperation.UploadFileOverflow)", async () => {
  const now = Math.floor(Date.now() / 1000);
  const values = Array.from({ length: 47 }, (_, i) =>
    `(${B}, 'filler${i}', 'f.wav', 1, 'uploads/none.wav', 'sha${i}', ${now})`).join(",");
  d.sql(`INSERT INTO ivr_audio (sdkappid, custom_name, file_name, status, path, sha256, created_at) VALUES ${values}`);
  const r = await upload(apiB, { SdkAppId: B, AudioList: [
    { CustomFileName: "a", AudioUrl: url("/chirp.wav") }, { CustomFileName: "b", AudioUrl: url("/stereo.wav") },
    { CustomFileName: "c", AudioUrl: url("/chirp.mp3") }, { CustomFileName: "d", AudioUrl: url("/chirp.mp3?2") }] });
  assert.equal(r.err, "FailedOperation.UploadFileOverflow", JSON.stringify(r));
  const ok = await upload(apiB, { SdkAppId: B, AudioList: [{ CustomFileName: "a", AudioUrl: url("/chirp.wav") }] });
  assert.equal(ok.SuccessFileList.length, 1, JSON.stringify(ok));
  d.sql(`DELETE FROM ivr_audio WHERE sdkappid = ${B} AND custom_name LIKE 'filler%'`);
});

test("DescribeIvrAudioList: paging from 0 and the three filters", async () => {
  const all = await api.DescribeIvrAudioList({ SdkAppId: A, PageSize: 2, PageNumber: 0 });
  assert.equal(all.err, undefined, all.message);
  assert.equal(all.TotalCount, 3);
  assert.deepEqual(all.FileInfo.map((f) => f.CustomFileName), ["welcome", "music"]);
  assert.deepEqual(Object.keys(all.FileInfo[0]).sort(), ["AudioFileName", "CustomFileName", "FileId", "Status"]);
  const p1 = await api.DescribeIvrAudioList({ SdkAppId: A, PageSize: 2, PageNumber: 1 });
  assert.deepEqual(p1.FileInfo.map((f) => f.CustomFileName), ["stereo"]);
  const byName = await api.DescribeIvrAudioList({ SdkAppId: A, PageSize: 50, PageNumber: 0,
    CustomFileName: ["music", "nothing"] });
  assert.deepEqual(byName.FileInfo.map((f) => f.FileId), [mp3Id]);
  const byFile = await api.DescribeIvrAudioList({ SdkAppId: A, PageSize: 50, PageNumber: 0,
    AudioFileName: ["chirp.wav", "stereo.wav"] });
  assert.equal(byFile.TotalCount, 2);
  const both = await api.DescribeIvrAudioList({ SdkAppId: A, PageSize: 50, PageNumber: 0,
    FileId: [wavId, mp3Id], AudioFileName: ["chirp.mp3"] });
  assert.deepEqual(both.FileInfo.map((f) => f.FileId), [mp3Id]);
  assert.equal((await api.DescribeIvrAudioList({ SdkAppId: A, PageSize: 51, PageNumber: 0 })).err,
    "InvalidParameterValue");
  assert.equal((await api.DescribeIvrAudioList({ SdkAppId: A, PageNumber: 0 })).err, "MissingParameter");
  assert.equal((await apiB.DescribeIvrAudioList({ SdkAppId: A, PageSize: 5, PageNumber: 0 })).err,
    "InvalidParameterValue.InstanceNotExist");
});

const FLOW = (prompt) => JSON.stringify({ type: "autoOutbound", nodes: [
  { id: "s", type: "start", next: "p" },
  { id: "p", type: "prompt", params: { ...prompt, interruptible: false }, next: "h" },
  { id: "h", type: "hangup" }] });

test("flows name uploads by fileId or customFileName; unknown ones are refused; a file in use is not deleted", async () => {
  let r = await common("CccdPutIVRFlow", { SdkAppId: A, IVRId: 21, Document: FLOW({ fileId: 999999 }) });
  assert.equal(r.err, "InvalidParameterValue");
  assert.match(r.message, /fileId: no uploaded file has id 999999/);
  r = await common("CccdPutIVRFlow", { SdkAppId: A, IVRId: 21, Document: FLOW({ customFileName: "nope" }) });
  assert.match(r.message, /no uploaded file is called 'nope'/);
  r = await common("CccdPutIVRFlow", { SdkAppId: A, IVRId: 21, Document: FLOW({ fileId: wavId, tts: "x" }) });
  assert.equal(r.err, "InvalidParameterValue");
  r = await common("CccdPutIVRFlow", { SdkAppId: A, IVRId: 21, Document: FLOW({ customFileName: "music" }) });
  assert.equal(r.err, undefined, r.message);
  r = await common("CccdPutIVRFlow", { SdkAppId: A, IVRId: 20, Document: FLOW({ fileId: wavId }) });
  assert.equal(r.err, undefined, r.message);
  // Another instance's file is unknown to this one.
  r = await common("CccdPutIVRFlow", { SdkAppId: B, IVRId: 1, Document: FLOW({ fileId: wavId }) });
  assert.equal(r.err, "InvalidParameterValue.InstanceNotExist");

  r = await common("CccdDeleteIvrAudio", { SdkAppId: A, FileId: mp3Id });
  assert.equal(r.err, "FailedOperation.AudioInUse");
  assert.match(r.message, /IVR 21/);
  r = await common("CccdPutIVRFlow", { SdkAppId: A, IVRId: 21, Document: FLOW({ tts: "bye" }) });
  assert.equal(r.err, undefined, r.message);
  r = await common("CccdDeleteIvrAudio", { SdkAppId: A, FileId: mp3Id });
  assert.equal(r.err, undefined, r.message);
  r = await common("CccdDeleteIvrAudio", { SdkAppId: A, FileId: mp3Id });
  assert.equal(r.err, "InvalidParameterValue");
  const list = await api.DescribeIvrAudioList({ SdkAppId: A, PageSize: 50, PageNumber: 0 });
  assert.deepEqual(list.FileInfo.map((f) => f.CustomFileName), ["welcome", "stereo"]);
});

test("an uploaded prompt is heard in a real call: cccd's RTP correlates with the upload", async () => {
  const sinkPort = await freePort();
  const sink = await rtpSink(sinkPort);
  const peer = await sipp(SIP("uas_answer_sink.xml"), { port: peerPort,
    args: ["-m", "1", "-timeout", "20s", "-timeout_error", "-key", "rtp1", String(sinkPort)] });
  try {
    const r = await api.CreateIVRSession({ SdkAppId: A, Callee: "008613940000000", IVRId: 20 });
    assert.equal(r.err, undefined, r.message);
    await finished(api, A, r.SessionId);
    assert.equal(await peer.wait(10000), 0, peer.log.slice(-2000));
    const heard = audioOf(sink.packets, 0);
    const { score } = bestCorrelation(heard, chirp, chirp.length);
    assert.ok(score > 0.98, `correlation ${score.toFixed(3)}`);
  } finally {
    await peer.stop();
    await sink.close();
  }
});

test("DescribeNumbers: NumberInfo, paged from 0", async () => {
  const r = await api.DescribeNumbers({ SdkAppId: A, PageNumber: 0, PageSize: 2 });
  assert.equal(r.err, undefined, r.message);
  assert.equal(r.TotalCount, 3);
  assert.deepEqual(JSON.parse(JSON.stringify(r.Numbers)), [
    { Number: "008675512340001", CallOutSkillGroupIds: [], State: 1 },
    { Number: "008675512340002", CallOutSkillGroupIds: [], State: 1 }]);
  const p1 = await api.DescribeNumbers({ SdkAppId: A, PageNumber: 1, PageSize: 2 });
  assert.deepEqual(p1.Numbers.map((n) => n.Number), ["008675512340003"]);
  const dflt = await api.DescribeNumbers({ SdkAppId: A });
  assert.equal(dflt.Numbers.length, 3, "PageSize defaults to 20");
  assert.equal((await apiB.DescribeNumbers({ SdkAppId: A })).err, "InvalidParameterValue.InstanceNotExist");
  assert.equal((await api.DescribeNumbers({ SdkAppId: A, PageSize: 0 })).err, "InvalidParameterValue");
});

// Sessions written straight into the store, as finished or live calls of any node; a
// finished one also goes into its day's tally (call_days) as the write that finishes a
// session does, in a row of its own (its id as the node).
function session(id, { direction, status, accept = 0, ended = 0, start, callee = "008613900000000", transferTo = "" }) {
  d.sql(`INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, status, created_ms, start_ts, accept_ts, ended_ts, outbound_callee)
    VALUES ('${id}', ${A}, 1, ${direction}, '008613911111111', '${callee}', ${status}, ${start * 1000}, ${start}, ${accept}, ${ended}, '${transferTo}')`);
  const talk = accept > 0 && ended >= accept ? ended - accept : -1;
  if (status === 3)
    d.sql(`INSERT INTO call_days (sdkappid, day, direction, node_id, calls, answered, talk_s, minutes)
      VALUES (${A}, ${Math.floor(ended / 86400)}, ${direction}, '${id}', 1, ${talk < 0 ? 0 : 1},
      ${Math.max(talk, 0)}, ${talk < 0 ? 0 : Math.floor((talk + 59) / 60)})`);
}

test("DescribeTelCallInfo: minutes per direction, whole days, at most 90", async () => {
  const day = Math.floor(Date.now() / 1000 / 86400) * 86400;
  const t = day - 86400 + 3600; // yesterday 01:00 UTC
  // Today's: the real call above, added to the tally by the write that finished it.
  const [own] = d.rows(`SELECT count(*) AS n, coalesce(sum((ended_ts - accept_ts + 59) / 60), 0) AS m
    FROM sessions WHERE sdkappid = ${A} AND status = 3 AND direction = 1 AND ended_ts >= ${day}
    AND accept_ts > 0 AND ended_ts >= accept_ts`);
  assert.ok(own.n >= 1, "the real call was answered and finished today");
  const today = await api.DescribeTelCallInfo({ StartTimeStamp: day, EndTimeStamp: day, SdkAppIdList: [A] });
  assert.equal(today.TelCallOutCount, Number(own.m));
  session("a".repeat(32), { direction: 1, status: 3, start: t, accept: t + 5, ended: t + 66 });  // 61 s: 2 min
  session("b".repeat(32), { direction: 1, status: 3, start: t, accept: 0, ended: t + 20 });       // unanswered
  session("c".repeat(32), { direction: 0, status: 3, start: t, accept: t, ended: t + 30 });       // 1 min
  session("d".repeat(32), { direction: 1, status: 3, start: t - 86400 * 2, accept: t - 86400 * 2, ended: t - 86400 * 2 + 600 });
  // Yesterday, given as any second of it.
  let r = await api.DescribeTelCallInfo({ StartTimeStamp: t + 7200, EndTimeStamp: t + 7200, SdkAppIdList: [A] });
  assert.equal(r.err, undefined, r.message);
  assert.deepEqual([r.TelCallOutCount, r.TelCallInCount, r.SeatUsedCount, r.VoipCallInCount, r.VOIPCallInCount,
    r.AsrOfflineCount, r.AsrRealtimeCount], [2, 1, 0, 0, 0, 0, 0]);
  r = await api.DescribeTelCallInfo({ StartTimeStamp: t - 86400 * 3, EndTimeStamp: t, SdkAppIdList: [A] });
  assert.equal(r.TelCallOutCount, 12, "10 more minutes three days ago");
  r = await api.DescribeTelCallInfo({ StartTimeStamp: day - 89 * 86400, EndTimeStamp: day + 86399, SdkAppIdList: [A] });
  assert.equal(r.err, undefined, "90 days is allowed");
  r = await api.DescribeTelCallInfo({ StartTimeStamp: day - 90 * 86400, EndTimeStamp: day, SdkAppIdList: [A] });
  assert.equal(r.err, "InvalidParameterValue", "91 days is not");
  r = await api.DescribeTelCallInfo({ StartTimeStamp: day, EndTimeStamp: day - 86400, SdkAppIdList: [A] });
  assert.equal(r.err, "InvalidParameterValue");
  r = await api.DescribeTelCallInfo({ StartTimeStamp: day, EndTimeStamp: day, SdkAppIdList: [A, A] });
  assert.equal(r.err, "InvalidParameterValue");
  r = await apiB.DescribeTelCallInfo({ StartTimeStamp: day, EndTimeStamp: day, SdkAppIdList: [B, A] });
  assert.equal(r.err, "InvalidParameterValue.InstanceNotExist");
  r = await api.DescribeTelCallInfo({ StartTimeStamp: day, EndTimeStamp: day });
  assert.equal(r.err, "MissingParameter");
});

test("DescribeCallInMetrics: live inbound calls per instance and per number, from the store", async () => {
  const now = Math.floor(Date.now() / 1000);
  let r = await api.DescribeCallInMetrics({ SdkAppId: A });
  assert.equal(r.err, undefined, r.message);
  assert.equal(r.TotalMetrics.IvrCount, 0);
  session("e".repeat(32), { direction: 0, status: 2, start: now - 10, callee: "008675512340001" });
  session("f".repeat(32), { direction: 0, status: 2, start: now - 5, callee: "008675512340001", transferTo: "008613900000001" });
  session("1".repeat(32), { direction: 0, status: 0, start: now - 1, callee: "008675512340002" });
  session("2".repeat(32), { direction: 1, status: 2, start: now - 1, callee: "008613900000002" });
  r = await api.DescribeCallInMetrics({ SdkAppId: A });
  assert.ok(Math.abs(r.Timestamp - now) < 30);
  assert.equal(r.TotalMetrics.IvrCount, 2);
  assert.equal(r.TotalMetrics.TransferOuterCount, 1);
  assert.equal(r.TotalMetrics.QueueCount, 0);
  assert.deepEqual(r.NumberMetrics, [], "EnabledNumber defaults to false");
  assert.deepEqual(r.SkillGroupMetrics, []);
  r = await api.DescribeCallInMetrics({ SdkAppId: A, EnabledNumber: true, GroupIdList: [1] });
  assert.deepEqual(r.NumberMetrics.map((n) => [n.Number, n.Metrics.IvrCount, n.Metrics.TransferOuterCount]),
    [["008675512340001", 1, 1], ["008675512340002", 1, 0]]);
  assert.equal((await apiB.DescribeCallInMetrics({ SdkAppId: A })).err, "InvalidParameterValue.InstanceNotExist");
  d.sql(`DELETE FROM sessions WHERE status <> 3 AND sdkappid = ${A}`);
});

test("the SSRF guard: with loopback not allowed, a loopback URL and a redirect to loopback are refused", async (t) => {
  // A private address on lo (this file runs in its own network namespace): allowed, and
  // it redirects to 127.0.0.1, which is not.
  let priv = true;
  try {
    execFileSync("ip", ["addr", "add", "10.254.17.1/32", "dev", "lo"], { stdio: "ignore" });
  } catch {
    priv = false;
  }
  const g = await startCccd({ apiLines: ["upload_allow_private = yes", "upload_timeout = 5"],
    sections: `[session]\nstop_wait = 2\nprompt_dir = ${prompts}\n` });
  try {
    const ga = client(g.addTenant(A, {}), g.endpoint);
    const list = [{ CustomFileName: "direct", AudioUrl: url("/chirp.wav") },
      { CustomFileName: "localhost", AudioUrl: `http://localhost:${webPort}/chirp.wav` },
      { CustomFileName: "v6", AudioUrl: `http://[::1]:${webPort}/chirp.wav` }];
    if (priv) list.push({ CustomFileName: "redirected", AudioUrl: `http://10.254.17.1:${webPort}/redirect` });
    const r = await ga.UploadIvrAudio({ SdkAppId: A, AudioList: list });
    assert.equal(r.err, undefined, r.message);
    assert.deepEqual(r.SuccessFileList, []);
    const failed = Object.fromEntries(r.FailedFileList.map((f) => [f.FileName, f.FailedMsg]));
    assert.match(failed.direct, /refused address: a loopback address is not allowed/);
    assert.match(failed.localhost, /refused address|cannot connect/);
    assert.match(failed.v6, /refused address|cannot connect/);
    if (priv) assert.match(failed.redirected, /refused address: a loopback address is not allowed/);
  } finally {
    await g.close();
    if (priv) execFileSync("ip", ["addr", "del", "10.254.17.1/32", "dev", "lo"], { stdio: "ignore" });
  }
  if (!priv) t.diagnostic("no address could be added to lo: the redirect case did not run");
});

test("UploadIvrAudio's CccdAudioData: a file given in the request, converted as a fetched one", async () => {
  const E = 1400017005;
  const c = commonClient(d.addTenant(E, {}), d.endpoint);
  const data = fs.readFileSync(path.join(media, "chirp.wav")).toString("base64");
  const r = await c("UploadIvrAudio", { SdkAppId: E, AudioList: [
    { CustomFileName: "given", CccdAudioData: data, CccdFileName: "chirp.wav" },
    { CustomFileName: "noise", CccdAudioData: Buffer.from("not audio at all").toString("base64") }] });
  assert.equal(r.err, undefined, r.message);
  assert.deepEqual(r.SuccessFileList.map((f) => [f.CustomFileName, f.AudioFileName, f.Status]),
    [["given", "chirp.wav", 1]]);
  assert.deepEqual(r.FailedFileList.map((f) => f.FileName), ["noise"]);
  assert.match(r.FailedFileList[0].FailedMsg, /wrong type/);
  const row = d.sql(`SELECT path FROM ivr_audio WHERE sdkappid = ${E}`).trim();
  assert.equal(wavSamples(path.join(prompts, row)).length, chirp.length, "the same samples as the file sent");
  await sleep(1100);
  const both = await c("UploadIvrAudio", { SdkAppId: E, AudioList: [
    { CustomFileName: "x", AudioUrl: url("/chirp.wav"), CccdAudioData: data }] });
  assert.equal(both.err, "InvalidParameterValue");
  assert.match(both.message, /AudioList\.0/);
  const none = await c("UploadIvrAudio", { SdkAppId: E, AudioList: [{ CustomFileName: "x" }] });
  assert.equal(none.err, "MissingParameter");
  assert.match(none.message, /AudioList\.0\.AudioUrl/);
});
