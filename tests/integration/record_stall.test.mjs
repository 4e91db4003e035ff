// A recorded call across a stall of the whole process (SIGSTOP, then SIGCONT): the
// recording stays as long as the call, with silence for the time nothing was heard
// (docs/recordings.md). Issue #12: a 40 s stop left a 20 s WAV for a 60 s call — the
// media worker writes one frame per tick and dropped the ticks it missed.
//
//   CCCD_BUILD=release|asan node --test tests/integration/record_stall.test.mjs
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, until, sleep } from "./lib/cccd.mjs";

const SDK = 1400000500;
let d, phone;

after(async () => {
  if (d?.proc && d.proc.exitCode === null) d.proc.kill("SIGCONT");
  await d?.close();
  await phone?.stop();
});

// Frames of a 16-bit PCM WAV file, from its data chunk's size.
function wavFrames(buf) {
  assert.equal(buf.toString("ascii", 0, 4), "RIFF");
  let off = 12, channels = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString("ascii", off, off + 4), len = buf.readUInt32LE(off + 4);
    if (id === "fmt ") channels = buf.readUInt16LE(off + 10);
    if (id === "data") return len / 2 / channels;
    off += 8 + len + (len & 1);
  }
  throw new Error("no data chunk");
}

test("a stall of the process leaves silence in the recording, not a shorter file", async () => {
  phone = await sipp(path.join(ROOT, "tests/sip/uas_answer_wait_bye.xml"));
  d = await startCccd({ trunkPort: phone.port });
  // A prompt, then a menu nobody answers (8 s), then a goodbye: cccd hangs up after ~10 s.
  const flow = {
    ivrId: 1, name: "stall", type: "autoOutbound", nodes: [
      { id: "start", type: "start", next: "menu" },
      { id: "menu", type: "menu", params: { prompt: { tts: "Hello." }, timeoutMs: 8000,
        retries: 0, keys: { 1: { next: "bye" } } }, onTimeout: "bye", onInvalid: "bye" },
      { id: "bye", type: "hangup", params: { prompt: { tts: "Goodbye." }, endStatus: "ok" } },
    ] };
  fs.writeFileSync(path.join(d.dir, "1.json"), JSON.stringify(flow));
  const api = client(d.addTenant(SDK, { ivrs: [`1:autoOutbound:${d.dir}/1.json`],
    numbers: ["008675512345678"] }), d.endpoint);
  d.ccc(["admin", "--config", d.confPath, "instance-set", "--sdkappid", String(SDK),
    "--record", "yes"]);

  const r = await api.CreateIVRSession({ SdkAppId: SDK, Callee: "+8613800000001", IVRId: 1 });
  assert.equal(r.err, undefined, r.message);
  await until(async () => {
    const s = await api.DescribeTelSession({ SdkAppId: SDK, SessionId: r.SessionId });
    return s.Session && s.Session.SessionStatus === "inProgress";
  }, 20000, 100, "the call to be answered");
  await sleep(2000);
  d.proc.kill("SIGSTOP");
  await sleep(4000);
  d.proc.kill("SIGCONT");

  await finished(api, SDK, r.SessionId, 30000);
  const cdr = await until(async () => {
    const c = await cdrOf(api, SDK, r.SessionId);
    return c && c.RecordURL ? c : null;
  }, 10000, 100, "the CDR with its recording");
  const call = cdr.EndedTimestamp - cdr.AcceptTimestamp;
  const file = path.join(d.dir, "recordings", String(SDK), `${r.SessionId}.wav`);
  const seconds = wavFrames(fs.readFileSync(file)) / 8000;
  assert.ok(call >= 8, `the call lasted ${call} s`);
  // The timestamps are whole seconds: the two agree within a second and a half.
  assert.ok(Math.abs(seconds - call) <= 1.5,
    `a ${call} s call left a ${seconds.toFixed(2)} s recording`);
});
