// The tasks bench driver (bench/tasks/run.sh starts it and says what it measures).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT, client, sipp, sleep, startCccd, until } from "../../tests/integration/lib/cccd.mjs";

const CREATE_CALLEES = Number(process.env.CREATE_CALLEES || 100000);
const WAITING = (process.env.WAITING || "1000,100000").split(",").map(Number);
// RATES= (empty) runs only the size figures.
const RATES = (process.env.RATES ?? "50,200").split(",").filter(Boolean).map(Number);
const RATE_SECONDS = Number(process.env.RATE_SECONDS || 60);
// Each window is measured from WARMUP_S after the task's first attempt: past the 32 s a SIP
// transaction keeps its timers (64 × T1), so that libre's timer list, walked at every
// transaction's start, is as long in every window (docs/benchmarks.md §Tasks).
const WARMUP_S = Number(process.env.WARMUP_S || 40);
// [tasks] tick_ms; its default. The scheduler's token bucket holds the rate at any tick.
const TICK_MS = Number(process.env.TICK_MS || 1000);
const SDKAPPID = 1400000000;
const CALLER = "008601012345678";
const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })); // /proc's unit

// Callees 0086138xxxxxxxx from first on: n distinct valid mobile numbers.
const callees = (first, n) => Array.from({ length: n },
  (_, i) => `0086138${String(first + i).padStart(8, "0")}`);

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m[1]) * 1024;
}

function cpuSeconds(pid) {
  // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
  const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

function storeBytes(d) {
  let n = 0;
  for (const suffix of ["", "-wal"]) {
    try { n += fs.statSync(path.join(d.dir, `cccd.db${suffix}`)).size; } catch { /* none */ }
  }
  return n;
}

const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;

async function start(rate, trunkPort) {
  const d = await startCccd({ logLevel: "warn", rtpCount: 8, sections:
    (trunkPort ? `[trunk sink]\nhost = 127.0.0.1\nport = ${trunkPort}\ntransport = udp\n` +
      "route = *\noptions_interval = 0\n" : "") +
    `[tasks]\ncalls_per_second = ${rate}\nmax_calls = 100000\ntick_ms = ${TICK_MS}\n` });
  const creds = d.addTenant(SDKAPPID, { ivrs: ["1:autoOutbound"], numbers: [CALLER] });
  return { d, api: client(creds, d.endpoint) };
}

async function create(api, req) {
  const r = await api.CreateAutoCalloutTask({ SdkAppId: SDKAPPID, Callers: [CALLER],
    IvrId: 1, ...req });
  if (r.err) throw new Error(`CreateAutoCalloutTask: ${r.err}: ${r.message}`);
  return r.TaskId;
}

async function sizeBench() {
  const { d, api } = await start(10, 0);
  try {
    const pid = d.proc.pid;
    await sleep(1000);
    const rss0 = rssBytes(pid), store0 = storeBytes(d);
    const list = callees(0, CREATE_CALLEES);
    const t0 = performance.now();
    const id = await create(api, { Callees: list, NotBefore: Math.floor(Date.now() / 1000) + 86400 * 30 });
    const createMs = performance.now() - t0;
    await sleep(1000);
    const rss1 = rssBytes(pid), store1 = storeBytes(d);
    console.log(`CreateAutoCalloutTask, ${CREATE_CALLEES} callees    ${(createMs / 1000).toFixed(2)} s`);
    console.log(`  cccd resident memory               ${mib(rss0)} before, ${mib(rss1)} after: ` +
      `${((rss1 - rss0) / CREATE_CALLEES).toFixed(0)} bytes per waiting callee`);
    console.log(`  store (database + WAL)             ${mib(store0)} before, ${mib(store1)} after: ` +
      `${((store1 - store0) / CREATE_CALLEES).toFixed(0)} bytes per callee`);
    const t1 = performance.now();
    const g = await api.DescribeAutoCalloutTask({ SdkAppId: SDKAPPID, TaskId: id });
    const describeMs = performance.now() - t1;
    if (g.err) throw new Error(`DescribeAutoCalloutTask: ${g.err}: ${g.message}`);
    console.log(`DescribeAutoCalloutTask on it        ${(describeMs / 1000).toFixed(2)} s, ` +
      `${g.Callees.length} callees, ${mib(JSON.stringify(g).length)} of JSON`);
    await sleep(1000);
    console.log(`  cccd resident memory after         ${mib(rssBytes(pid))}`);
    // A second equal task and a second Describe: what stays per callee, and what was the
    // allocator's or a cache's, once.
    const id2 = await create(api, { Callees: callees(CREATE_CALLEES, CREATE_CALLEES),
      NotBefore: Math.floor(Date.now() / 1000) + 86400 * 30 });
    await sleep(1000);
    const rss2 = rssBytes(pid);
    await api.DescribeAutoCalloutTask({ SdkAppId: SDKAPPID, TaskId: id2 });
    await sleep(1000);
    console.log(`A second task of ${CREATE_CALLEES} callees: resident memory ${mib(rss2)}; ` +
      `after its Describe ${mib(rssBytes(pid))}`);
  } finally {
    await d.stop();
    d.cleanup();
  }
}

async function rateBench(rate) {
  const uas = await sipp(path.join(ROOT, "tests/sip/uas_busy.xml"));
  const { d, api } = await start(rate, uas.port);
  let first = 0;
  try {
    const pid = d.proc.pid;
    for (const waiting of WAITING) {
      // Enough callees that WAITING of them are still waiting at the window's end. A task
      // has at most 100,000: what does not fit waits in a second task, not started (its
      // callees are rows of the same table and index, due in a month).
      const want = waiting + Math.ceil(rate * (RATE_SECONDS + WARMUP_S + 10) * 1.2);
      const n = Math.min(want, 100000), pad = want - n;
      const id = await create(api, { Callees: callees(first, n),
        NotBefore: Math.floor(Date.now() / 1000), Tries: 1 });
      first += n;
      if (pad) {
        await create(api, { Callees: callees(first, pad),
          NotBefore: Math.floor(Date.now() / 1000) + 86400 * 30 });
        first += pad;
      }
      const placed = () => Number(d.sql(`SELECT count(*) FROM sessions WHERE task_id = ${id}`));
      await until(() => placed() > 0, 30000, 100, "the first attempt");
      await sleep(WARMUP_S * 1000);
      const a0 = placed(), c0 = cpuSeconds(pid), t0 = performance.now();
      await sleep(RATE_SECONDS * 1000);
      const a1 = placed(), c1 = cpuSeconds(pid), t1 = performance.now();
      const attempts = a1 - a0, achieved = attempts / ((t1 - t0) / 1000);
      const dev = (achieved - rate) / rate * 100;
      console.log(`calls_per_second = ${rate}, ${n - a1 + pad} callees waiting at the end` +
        `${pad ? ` (${pad} in a task not started)` : ""}: ` +
        `${achieved.toFixed(1)} attempts/s (${dev >= 0 ? "+" : ""}${dev.toFixed(1)} %), ` +
        `cccd CPU ${((c1 - c0) / attempts * 1e6).toFixed(0)} µs per attempt ` +
        `(${attempts} attempts in ${((t1 - t0) / 1000).toFixed(1)} s)`);
      const s = await api.StopAutoCalloutTask({ SdkAppId: SDKAPPID, TaskId: id });
      if (s.err) throw new Error(`StopAutoCalloutTask: ${s.err}: ${s.message}`);
      await sleep(2000); // calls in flight end before the next window
    }
  } finally {
    await d.stop();
    d.cleanup();
    await uas.stop();
  }
}

console.log(`cccd tasks bench: ${CREATE_CALLEES} callees created; rates ${RATES.join(", ")}/s ` +
  `over ${RATE_SECONDS} s with ${WAITING.join(", ")} waiting; tick_ms ${TICK_MS}; store sqlite`);
await sizeBench();
for (const rate of RATES) await rateBench(rate);
