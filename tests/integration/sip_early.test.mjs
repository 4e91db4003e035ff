// What carriers do before the answer, through a real cccd: reliable provisionals that must be
// PRACKed (RFC 3262), a forking proxy whose two phones both answer (one call; the second
// 200 gets ACK and BYE), and early media (183 with SDP and audio before the 200) that ends
// up at the start of the call's recording (docs/sip.md "Before the answer").
//
//   CCCD_BUILD=release|asan node --test tests/integration/sip_early.test.mjs
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, until } from "./lib/cccd.mjs";

const SDK = 1400000700;
const SIP = (n) => path.join(ROOT, "tests/sip", n);
let d, phone;

afterEach(async () => {
  await d?.close();
  await phone?.stop();
  d = phone = undefined;
});

// A flow that says hello and waits for the callee to hang up.
async function setup(scenario, { record = false } = {}) {
  phone = await sipp(SIP(scenario), { args: ["-m", "1"] });
  d = await startCccd({ trunkPort: phone.port });
  const flow = {
    ivrId: 1, name: "early", type: "autoOutbound", nodes: [
      { id: "start", type: "start", next: "menu" },
      { id: "menu", type: "menu", params: { prompt: { tts: "Hello." }, timeoutMs: 20000,
        retries: 0, keys: { 1: { next: "bye" } } }, onTimeout: "bye", onInvalid: "bye" },
      { id: "bye", type: "hangup", params: { endStatus: "ok" } },
    ] };
  fs.writeFileSync(path.join(d.dir, "1.json"), JSON.stringify(flow));
  const api = client(d.addTenant(SDK, { ivrs: [`1:autoOutbound:${d.dir}/1.json`],
    numbers: ["008675512345678"] }), d.endpoint);
  if (record)
    d.ccc(["admin", "--config", d.confPath, "instance-set", "--sdkappid", String(SDK),
      "--record", "yes"]);
  const r = await api.CreateIVRSession({ SdkAppId: SDK, Callee: "+8613800000001", IVRId: 1 });
  assert.equal(r.err, undefined, r.message);
  await finished(api, SDK, r.SessionId, 30000);
  const cdr = await until(() => cdrOf(api, SDK, r.SessionId).catch(() => null), 10000, 100,
    "the CDR");
  const code = await phone.wait(20000);
  assert.equal(code, 0, `sipp's verdict on ${scenario}: ${phone.log.slice(-400)}`);
  return { r, cdr, lines: d.log.split("\n").filter((l) => l.includes(r.SessionId)) };
}

// The left channel (what the callee side sent) of a 16-bit stereo WAV, and its length.
function wavLeft(buf) {
  assert.equal(buf.toString("ascii", 0, 4), "RIFF");
  let off = 12, channels = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString("ascii", off, off + 4), len = buf.readUInt32LE(off + 4);
    if (id === "fmt ") channels = buf.readUInt16LE(off + 10);
    if (id === "data") {
      const frames = len / 2 / channels, left = new Int16Array(frames);
      for (let i = 0; i < frames; i++) left[i] = buf.readInt16LE(off + 8 + i * 2 * channels);
      return left;
    }
    off += 8 + len + (len & 1);
  }
  throw new Error("no data chunk");
}

const rms = (a) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / Math.max(1, a.length));

test("a carrier's reliable 180 and 183 are PRACKed and the call proceeds", async () => {
  const { cdr, lines } = await setup("uas_100rel.xml");
  assert.equal(cdr.EndStatus, 1);
  assert.ok(cdr.AcceptTimestamp > 0 && cdr.RingTimestamp > 0, JSON.stringify(cdr));
  assert.ok(lines.some((l) => l.includes("early media (183)")), lines.join("\n"));
});

test("two forks answer: one call, the second fork gets ACK and BYE", async () => {
  const { cdr, lines } = await setup("uas_fork.xml");
  assert.equal(cdr.EndStatus, 1);
  assert.equal(lines.filter((l) => /call: \w+: answered$/.test(l)).length, 1, lines.join("\n"));
  assert.ok(lines.some((l) => l.includes("from a second fork")), lines.join("\n"));
  assert.equal(cdr.HungUpSide ?? "user", "user");
});

test("early media from a 183 is at the start of the recording", async () => {
  const { r, cdr } = await setup("uas_early_media.xml", { record: true });
  assert.equal(cdr.EndStatus, 1);
  assert.ok(cdr.RecordURL, "a recording");
  const file = path.join(d.dir, "recordings", String(SDK), `${r.SessionId}.wav`);
  const left = wavLeft(fs.readFileSync(file));
  const seconds = left.length / 8000;
  const call = cdr.EndedTimestamp - cdr.AcceptTimestamp; // whole seconds
  // 2 s of early media before the 200, then about 1.5 s of call: the recording is the
  // longer by the early part (whole-second timestamps: a second of slack).
  assert.ok(seconds >= call + 1, `a ${call} s call left a ${seconds.toFixed(2)} s recording`);
  // and its first second is the carrier's audio, not silence
  const first = rms(left.subarray(0, 8000));
  assert.ok(first > 100, `the first second of the recording is silent (rms ${first})`);
});
