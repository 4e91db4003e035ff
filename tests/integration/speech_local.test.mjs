// Local speech recognition end to end: a sipp phone answers an outbound IVR and speaks, from
// the recogniser's labelled set (tests/data/asr), a digit string into a digits speech node
// and a "yes" into a yes/no node ("engine": "local": PocketSphinx on cccd's recogniser
// thread, no URL). Checked: the digits and the words as OriginalContent in the CDR, the
// variables, the branch the intent took, and that a local node takes no AI channel (the
// instance has none); and that `ccc ivr simulate`, which has no recogniser, leaves by onFail.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT, startCccd, client, sipp, finished, cdrOf, until, freePort } from "./lib/cccd.mjs";
import { wavSamples, writePcap } from "./lib/rtp.mjs";

const A = 1400007001;
let d, phone, api;

function pathOf(sessionId) {
  return d.sql(`SELECT node || '=' || result FROM session_path WHERE session_id = '${sessionId}' ORDER BY seq`).trim().split("\n");
}

// A µ-law WAV of the set as a PCMA pcap the phone plays; its length in ms.
function spoken(name) {
  const pcm = path.join(d.dir, `${name}.wav`);
  execFileSync("sox", [path.join(ROOT, "tests/data/asr", `${name}.wav`), "-e", "signed", "-b", "16", pcm]);
  const samples = wavSamples(pcm);
  const pcap = path.join(d.dir, `${name}.pcap`);
  writePcap(pcap, samples, "pcma");
  return { pcap, ms: Math.ceil(samples.length / 8) + 300 };
}

before(async () => {
  const port = await freePort();
  d = await startCccd({ sections: [
    "[trunk phone]", "host = 127.0.0.1", `port = ${port}`, "transport = udp",
    "route = *", "options_interval = 0", "[speech]", "threads = 1", "queue = 4",
    `adaptation = ${path.join(ROOT, "src/asr/adapt/en-us-telephone")}`].join("\n") });
  const digits = spoken("digits_074"); // "3, 1, 5, 8" (flite kal)
  const yes = spoken("yesno_003");     // "yes"
  const scenario = path.join(d.dir, "ivr_speech_local.xml");
  fs.writeFileSync(scenario, fs.readFileSync(path.join(ROOT, "tests/sip/ivr_speech_local.xml"), "utf8")
    .replaceAll("DIGITS_PCAP", digits.pcap).replaceAll("DIGITS_MS", String(digits.ms))
    .replaceAll("YES_PCAP", yes.pcap).replaceAll("YES_MS", String(yes.ms)));
  phone = await sipp(scenario, { port, args: ["-m", "1"] });
  fs.writeFileSync(path.join(d.dir, "local.json"), JSON.stringify({ type: "autoOutbound", nodes: [
    { id: "s", type: "start", next: "account" },
    { id: "account", type: "speech", label: "account", params: { prompt: { tts: "Your number?" },
      engine: "local", grammar: "digits", digits: { min: 4, max: 8 }, textVar: "Account",
      maxLenS: 20 }, next: "confirm", onFail: "sorry" },
    { id: "confirm", type: "speech", label: "confirm", params: { prompt: { tts: "Right?" },
      engine: "local", grammar: "yesno", intents: { yes: "done" }, maxLenS: 20 },
      next: "other", onFail: "sorry" },
    { id: "done", type: "hangup", params: { endStatus: "ok" } },
    { id: "other", type: "hangup", params: { endStatus: "ivrEnd" } },
    { id: "sorry", type: "hangup", params: { endStatus: "error" } }] }));
  api = client(d.tenant(["--sdkappid", String(A), "--rules", "demo", "--ai-channels", "0",
    "--ivr", `1:autoOutbound:${d.dir}/local.json`, "--number", "008601012345678"]), d.endpoint);
});

after(async () => {
  await d?.close();
  await phone?.stop();
});

test("a spoken digit string and a spoken yes, recognised on the machine, take the flow's branches", async () => {
  const r = await api.CreateIVRSession({ SdkAppId: A, Callee: "008613800138000", IVRId: 1 });
  assert.equal(r.err, undefined, r.message);
  await finished(api, A, r.SessionId, 60000);
  const cdr = await until(() => cdrOf(api, A, r.SessionId), 5000, 100, "the CDR");
  const p = pathOf(r.SessionId);
  assert.deepEqual(p.map((s) => s.split("=")[0]), ["s", "account", "confirm", "done"], p.join(" "));
  assert.equal(p[1], "account=recognised:-");
  assert.equal(p[2], "confirm=intent:yes");
  assert.equal(cdr.EndStatus, 1, JSON.stringify(cdr));
  assert.equal(cdr.IVRKeyPressedEx.length, 2);
  assert.equal(cdr.IVRKeyPressedEx[0].Key, "3158");
  assert.equal(cdr.IVRKeyPressedEx[0].OriginalContent, "3158");
  assert.equal(cdr.IVRKeyPressedEx[0].NodeLabel, "account");
  assert.equal(cdr.IVRKeyPressedEx[1].Key, "yes");
  assert.equal(cdr.IVRKeyPressedEx[1].OriginalContent, "yes");
  await d.waitLog(/node account: heard '3158'/);
  assert.equal(await phone.wait(20000), 0, phone.log.slice(-2000));
});

test("ccc ivr simulate has no local recogniser: a local node leaves by onFail there", () => {
  const out = d.ccc(["ivr", "simulate", path.join(d.dir, "local.json"), "--speed", "20"]);
  assert.match(out, /path +account -> error:no local recogniser/);
  assert.match(out, /path +sorry/);
});
