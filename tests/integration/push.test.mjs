// Data push end to end: the push thread — run by tests/integration/push_driver.c with the
// same store, tenant and push code cccd runs — against a real Node HTTP receiver on
// loopback, configured and operated with the real `ccc push` commands.
//
//   CCCD_BUILD=release|asan node --test tests/integration/push.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { spawn, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.join(root, "build", process.env.CCCD_BUILD || "release");
const CCC = path.join(build, "ccc");
const DRIVER = path.join(build, "itests", "push_driver");
const SDK = 1400000001;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls until fn() is truthy; every wait is bounded.
async function waitFor(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// A push receiver: records every request; `handler` decides each reply. A handler
// may return "hang" (never answer: the client times out) or a promise.
class Receiver {
  constructor() {
    this.requests = [];
    this.handler = () => ({ status: 200, body: { ErrCode: 0, ErrMsg: "ok" } });
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", async () => {
        const r = {
          method: req.method,
          url: new URL(req.url, "http://x"),
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        this.requests.push(r);
        const reply = await this.handler(r, this.requests.length);
        if (reply === "hang" || res.destroyed) return;
        res.writeHead(reply.status, { "Content-Type": "application/json" });
        res.end(typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body));
      });
    });
    await new Promise((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  pushes(id) {
    return this.requests.filter((r) => r.url.pathname !== "/token" &&
      (!id || r.headers["x-tccc-push-uuid"] === id));
  }

  close() {
    this.server.closeAllConnections();
    this.server.close();
  }
}

// The driver process: one command per line in, one answer line out.
class Driver {
  constructor(conf) {
    this.proc = spawn(DRIVER, [conf], { stdio: ["pipe", "pipe", "pipe"] });
    this.lines = [];
    this.stderr = "";
    this.exited = new Promise((r) => this.proc.on("exit", (code, sig) => r({ code, sig })));
    readline.createInterface({ input: this.proc.stdout }).on("line", (l) => this.lines.push(l));
    this.proc.stderr.on("data", (d) => { this.stderr += d; });
  }

  async next(what) {
    try {
      return await waitFor(() => {
        if (this.lines.length) return this.lines.shift();
        if (this.proc.exitCode !== null || this.proc.signalCode !== null)
          throw new Error(`driver exited (${this.proc.exitCode ?? this.proc.signalCode})`);
        return null;
      }, what);
    } catch (e) {
      throw new Error(`${e.message}; driver stderr:\n${this.stderr}`);
    }
  }

  async ready() {
    assert.equal(await this.next("driver ready"), "ready");
    return this;
  }

  async add(sid, action, body, sdk = SDK) {
    this.proc.stdin.write(`add ${sdk} ${sid} ${action} ${JSON.stringify(body)}\n`);
    const l = await this.next("add");
    if (l === "skipped") return null;
    assert.match(l, /^added /);
    return l.slice(6);
  }

  async quit() {
    this.proc.stdin.end("quit\n");
    const { code } = await this.exited;
    assert.equal(code, 0, this.stderr);
  }

  async kill() {
    this.proc.kill("SIGKILL");
    await this.exited;
  }
}

function ccc(...args) {
  return execFileSync(CCC, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

// A fresh database with one instance, a receiver, and a config file.
async function setup(t, { push = "", pushConfig = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-push-"));
  const conf = path.join(dir, "cccd.conf");
  const rx = new Receiver();
  await rx.start();
  fs.writeFileSync(conf, `[log]
level = warn
[store]
path = ${dir}/cccd.db
synchronous = normal
[push]
poll_ms = 50
timeout_ms = 800
retry_schedule = 100ms,200ms,300ms
event_retry_schedule = 100ms
settings_cache_ms = 0
stop_timeout_ms = 500
${push}`);
  ccc("admin", "--config", conf, "tenant-add", "--sdkappid", String(SDK));
  ccc("push", "config", "--config", conf, "--sdkappid", String(SDK), "--url", `${rx.url}/push`,
    ...pushConfig);
  const drivers = [];
  const env = {
    dir, conf, rx,
    async driver(extraConf) {
      let c = conf;
      if (extraConf) {
        c = path.join(dir, `extra-${drivers.length}.conf`);
        fs.writeFileSync(c, fs.readFileSync(conf, "utf8") + extraConf);
      }
      const d = new Driver(c);
      drivers.push(d);
      return d.ready();
    },
    list(...filter) {
      return ccc("push", "list", "--config", conf, "--json", ...filter)
        .split("\n").filter(Boolean).map((l) => JSON.parse(l));
    },
    row(id) {
      return this.list("--id", id)[0];
    },
    config(...args) {
      return ccc("push", "config", "--config", conf, "--sdkappid", String(SDK), ...args);
    },
  };
  t.after(async () => {
    for (const d of drivers) {
      if (d.proc.exitCode === null && d.proc.signalCode === null) await d.kill();
    }
    rx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return env;
}

const cdrBody = (sid) => ({
  SdkAppId: SDK, SessionId: sid, Caller: "008675512345678", Callee: "008613800138000",
  Time: 1764000000, Direction: 1, CallType: 1, StartTimestamp: 1764000000,
  RingTimestamp: 1764000002, AcceptTimestamp: 1764000005, EndedTimestamp: 1764000065,
  Duration: 60, IVRDuration: 60, EndStatus: 1, EndStatusString: "ok", HungUpSide: "user",
  IVRKeyPressed: ["1", "2"], IVRKeyPressedEx: [{ Key: "1", Label: "sales" }],
  SeatUser: { Mail: "", Name: "", StaffNumber: "", Phone: "", UserId: "", Role: 0,
    SkillGroupNameList: [] },
  ServeParticipants: [], RecordId: "", RecordURL: "", UUI: "order=42", QueuedTimestamp: 0,
  PostIVRKeyPressed: [], QueuedSkillGroupId: 0, QueuedSkillGroupName: "",
});

test("every action goes out as TCCC sends it: query, headers, body", async (t) => {
  const env = await setup(t, { pushConfig: ["--events", "cdr,record,voicemail,event"] });
  const d = await env.driver();
  const sid = "5f3e2a1b0c9d8e7f6a5b4c3d2e1f0a9b";
  const bodies = {
    record: { SdkAppId: SDK, RecordId: "rec-1", SessionId: sid, Timestamp: 1764000066,
      EndpointUser: "008613800138000", RecordURL: "http://127.0.0.1/r/rec-1.wav",
      CustomRecordURL: "" },
    voicemail: { SdkAppId: SDK, SessionId: sid, Timestamp: 1764000067,
      RecordURL: "http://127.0.0.1/v/1.wav", EndpointUser: "008613800138000" },
    cdr: cdrBody(sid),
    event: { SdkAppId: SDK, SessionId: sid, Event: "ended", Timestamp: 1764000065123,
      SessionStatus: "finished", Data: {} },
  };
  const ids = {};
  for (const action of ["record", "voicemail", "cdr", "event"]) {
    ids[action] = await d.add(sid, action, bodies[action]);
    assert.match(ids[action], UUID_RE);
  }
  await waitFor(() => env.rx.pushes().length === 4, "4 pushes");
  await waitFor(() => env.list("--state", "delivered").length === 4, "4 delivered rows");

  const queries = {
    record: "?action=record&version=1",
    voicemail: "?action=voicemail",
    cdr: "?action=cdr&version=1",
    event: "?action=event&version=1",
  };
  const keys = {
    record: `${sid}:record:rec-1`,
    voicemail: `${sid}:voicemail`,
    cdr: `${sid}:cdr`,
    event: `${sid}:event:ended:1764000065123`,
  };
  // One session: delivered one after the other in creation order.
  assert.deepEqual(env.rx.pushes().map((r) => r.url.searchParams.get("action")),
    ["record", "voicemail", "cdr", "event"]);
  for (const action of Object.keys(bodies)) {
    const [r] = env.rx.pushes(ids[action]);
    assert.equal(r.method, "POST");
    assert.equal(r.url.pathname, "/push");
    assert.equal(r.url.search, queries[action]);
    assert.equal(r.headers["content-type"], "application/json;charset=utf8");
    assert.equal(r.headers["x-tccc-push-uuid"], ids[action]);
    assert.equal(r.headers["x-cccd-push-key"], keys[action]);
    assert.equal(r.headers.authorization, undefined);
    assert.equal(r.headers.expect, undefined);
    assert.deepEqual(JSON.parse(r.body), bodies[action]);
    const row = env.row(ids[action]);
    assert.equal(row.state, "delivered");
    assert.equal(row.attempts, 1);
    assert.equal(row.lastError, "");
  }
  await d.quit();
});

test("the action is joined with & to a URL that has a query already", async (t) => {
  const env = await setup(t);
  env.config("--url", `${env.rx.url}/hook?token=abc`);
  const d = await env.driver();
  await d.add("s1", "cdr", cdrBody("s1"));
  await waitFor(() => env.rx.pushes().length === 1, "a push");
  assert.equal(env.rx.pushes()[0].url.pathname, "/hook");
  assert.equal(env.rx.pushes()[0].url.search, "?token=abc&action=cdr&version=1");
  await d.quit();
});

test("retries after a 500 and after a receiver timeout, with the same push id", async (t) => {
  const env = await setup(t);
  env.rx.handler = (r, n) => {
    if (n === 1) return { status: 500, body: { ErrCode: 0 } };
    if (n === 2) return "hang";
    return { status: 200, body: { ErrCode: "0", ErrMsg: "" } };
  };
  const d = await env.driver();
  const id = await d.add("s1", "cdr", cdrBody("s1"));
  await waitFor(() => env.row(id).state === "delivered", "delivered after retries");
  const seen = env.rx.pushes();
  assert.equal(seen.length, 3);
  for (const r of seen) {
    assert.equal(r.headers["x-tccc-push-uuid"], id);
    assert.deepEqual(JSON.parse(r.body), cdrBody("s1"));
  }
  assert.equal(env.row(id).attempts, 3);
  await d.quit();
});

test("ErrCode 1 and non-JSON fail; dead after 3 retries; ccc push resend sends it again",
  async (t) => {
    // Copies are counted exactly: a receiver timeout (the driver's 800 ms, which a loaded
    // ASan run can pass) would add a retry that is not the one under test.
    const env = await setup(t, { pushConfig: ["--events", "cdr,event", "--timeout-ms", "10000"] });
    let healthy = false;
    env.rx.handler = (r, n) => {
      if (healthy) return { status: 200, body: { ErrCode: 0, ErrMsg: "ok" } };
      return n % 2 ? { status: 200, body: { ErrCode: 1, ErrMsg: "busy" } }
        : { status: 200, body: "OK" };
    };
    const d = await env.driver();
    const t0 = Math.floor(Date.now() / 1000);
    const id = await d.add("s1", "cdr", cdrBody("s1"));
    await waitFor(() => env.row(id).state === "dead", "dead");
    let row = env.row(id);
    assert.equal(row.attempts, 4);
    assert.equal(env.rx.pushes(id).length, 4);
    assert.match(row.lastError, /^(ErrCode 1: busy|HTTP 200: the reply is not a JSON object)$/);
    assert.ok(env.rx.pushes(id).some((r) => r.body && true));

    // Events have the shorter budget: one retry.
    const ev = await d.add("s2", "event", { SdkAppId: SDK, SessionId: "s2", Event: "ringing",
      Timestamp: 1764000001000, SessionStatus: "ringing", Data: {} });
    await waitFor(() => env.row(ev).state === "dead", "event dead");
    assert.equal(env.rx.pushes(ev).length, 2);
    assert.deepEqual(env.list("--state", "dead").map((r) => r.id).sort(), [id, ev].sort());

    // The receiver is fixed; the operator re-sends by id: same push id, delivered.
    healthy = true;
    assert.match(ccc("push", "resend", "--config", env.conf, "--id", id), /re-queued 1 push\n/);
    await waitFor(() => env.row(id).state === "delivered", "resent row delivered");
    row = env.row(id);
    assert.equal(row.attempts, 1);
    assert.equal(row.replays, 1);
    assert.equal(env.rx.pushes(id).length, 5);
    assert.equal(env.rx.pushes(id)[4].headers["x-tccc-push-uuid"], id);

    // By session, a delivered row too; by time range and action.
    assert.match(ccc("push", "resend", "--config", env.conf, "--session", "s1"),
      /re-queued 1 push\n/);
    await waitFor(() => env.rx.pushes(id).length === 6, "sixth copy");
    const until = Math.floor(Date.now() / 1000) + 1;
    assert.match(ccc("push", "resend", "--config", env.conf, "--since", String(t0),
      "--until", String(until), "--action", "event"), /re-queued 1 push\n/);
    await waitFor(() => env.row(ev).state === "delivered", "event delivered");
    assert.equal(env.rx.pushes(ev).length, 3);

    // The operator's mistakes are refused.
    assert.throws(() => ccc("push", "resend", "--config", env.conf), /choose rows/);
    assert.throws(() => ccc("push", "resend", "--config", env.conf, "--since", "5",
      "--until", "4"), /--since must be before --until/);
    assert.throws(() => ccc("push", "list", "--config", env.conf, "--state", "lost"),
      /bad --state/);
    await d.quit();
  });

test("HTTP Basic authentication", async (t) => {
  const env = await setup(t);
  const pw = path.join(env.dir, "pw");
  fs.writeFileSync(pw, "pa:ss-w0rd\n", { mode: 0o600 });
  const shown = env.config("--auth", "basic", "--user", "bob", "--password-file", pw);
  assert.match(shown, /^auth=basic$/m);
  assert.match(shown, /^password=\(set\)$/m);
  assert.doesNotMatch(shown, /pa:ss/);
  const d = await env.driver();
  await d.add("s1", "cdr", cdrBody("s1"));
  await waitFor(() => env.rx.pushes().length === 1, "a push");
  assert.equal(env.rx.pushes()[0].headers.authorization,
    "Basic " + Buffer.from("bob:pa:ss-w0rd").toString("base64"));
  // Nowhere in clear in the database files.
  await d.quit();
  for (const f of fs.readdirSync(env.dir).filter((f) => f.startsWith("cccd.db"))) {
    assert.ok(!fs.readFileSync(path.join(env.dir, f)).includes("pa:ss-w0rd"), f);
  }
});

test("OAuth2 client credentials: one token, cached, refetched once after a 401",
  async (t) => {
    const env = await setup(t);
    const clientId = "my client";
    const secret = "s3/cr+et=";
    let valid = "tok1";
    let issue = () => ({ status: 200, body: { access_token: valid, token_type: "Bearer",
      expires_in: 3600 } });
    const tokenRequests = [];
    env.rx.handler = (r) => {
      if (r.url.pathname === "/token") {
        tokenRequests.push(r);
        return issue();
      }
      if (r.headers.authorization !== `Bearer ${valid}`)
        return { status: 401, body: { ErrCode: 401, ErrMsg: "bad token" } };
      return { status: 200, body: { ErrCode: 0, ErrMsg: "ok" } };
    };
    env.config("--auth", "oauth2", "--token-url", `${env.rx.url}/token`, "--client-id",
      clientId, "--client-secret", secret);
    const d = await env.driver();
    const a = await d.add("s1", "cdr", cdrBody("s1"));
    const b = await d.add("s2", "cdr", cdrBody("s2"));
    await waitFor(() => env.row(a).state === "delivered" && env.row(b).state === "delivered",
      "both delivered");
    assert.equal(tokenRequests.length, 1);
    const tr = tokenRequests[0];
    assert.equal(tr.method, "POST");
    assert.equal(tr.body, "grant_type=client_credentials");
    assert.equal(tr.headers["content-type"], "application/x-www-form-urlencoded");
    assert.equal(tr.headers.authorization, "Basic " + Buffer.from(
      `${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64"));
    for (const r of env.rx.pushes()) assert.equal(r.headers.authorization, "Bearer tok1");

    // The token is revoked: a 401, one new token, the same push again — one attempt.
    valid = "tok2";
    const c = await d.add("s3", "cdr", cdrBody("s3"));
    await waitFor(() => env.row(c).state === "delivered", "delivered with a new token");
    assert.equal(tokenRequests.length, 2);
    assert.deepEqual(env.rx.pushes(c).map((r) => r.headers.authorization),
      ["Bearer tok1", "Bearer tok2"]);
    assert.equal(env.row(c).attempts, 1);

    // The token URL fails: the push fails as an attempt and is retried, then dead.
    valid = "tok3";
    issue = () => ({ status: 500, body: { error: "down" } });
    const e = await d.add("s4", "cdr", cdrBody("s4"));
    // (Three failures in a row back the instance off: 1 s before the fourth attempt.)
    await waitFor(() => env.row(e).state === "dead", "dead without a token", 20000);
    assert.equal(env.row(e).lastError, "oauth2 token: HTTP 500");
    assert.equal(env.row(e).attempts, 4);
    await d.quit();
  });

test("one row at a time per session, in creation order; sessions in parallel", async (t) => {
  // A's first row waits for B's (up to 5 s on a loaded machine): the request must not time
  // out meanwhile, or A's row is sent twice.
  const env = await setup(t, { pushConfig: ["--timeout-ms", "10000"] });
  const inflight = new Map();
  let maxPerSession = 0;
  let bArrived = false;
  let aHeldForB = null;
  env.rx.handler = async (r) => {
    const { SessionId: s, n } = JSON.parse(r.body);
    inflight.set(s, (inflight.get(s) || 0) + 1);
    maxPerSession = Math.max(maxPerSession, inflight.get(s));
    if (s === "B") bArrived = true;
    if (s === "A" && n === 1) {
      // Answer A's first row only once B's row came in: B did not wait for A.
      aHeldForB = await waitFor(() => bArrived, "B while A is in flight", 5000)
        .then(() => true, () => false);
    }
    await sleep(20);
    inflight.set(s, inflight.get(s) - 1);
    return { status: 200, body: { ErrCode: 0 } };
  };
  const d = await env.driver();
  for (let n = 1; n <= 3; n++) await d.add("A", "cdr", { SessionId: "A", n });
  await d.add("B", "cdr", { SessionId: "B", n: 1 });
  await waitFor(() => env.list("--state", "delivered").length === 4, "4 delivered");
  assert.deepEqual(env.rx.pushes().filter((r) => JSON.parse(r.body).SessionId === "A")
    .map((r) => JSON.parse(r.body).n), [1, 2, 3]);
  assert.equal(maxPerSession, 1);
  assert.equal(aHeldForB, true);
  await d.quit();
});

test("pending and in-flight rows survive kill -9: sent again after a restart, same ids",
  async (t) => {
    // The hung requests must still be in flight at the kill, however slow the machine.
    const env = await setup(t, { pushConfig: ["--timeout-ms", "10000"] });
    // Rows written while nothing delivers them.
    const quiet = await env.driver("enabled = no\n"); // appended to [push]
    const early = await quiet.add("s0", "cdr", cdrBody("s0"));
    await quiet.quit();
    assert.equal(env.row(early).state, "pending");
    assert.equal(env.rx.pushes().length, 0);

    // In flight when the process dies: the receiver has them, no answer went back.
    env.rx.handler = () => "hang";
    const d1 = await env.driver();
    const ids = [early];
    for (const s of ["s1", "s2", "s3"]) ids.push(await d1.add(s, "cdr", cdrBody(s)));
    await waitFor(() => env.rx.pushes().length === 4, "4 pushes in flight");
    await d1.kill();
    for (const id of ids) assert.equal(env.row(id).state, "pending");

    env.rx.handler = () => ({ status: 200, body: { ErrCode: 0 } });
    const d2 = await env.driver();
    await waitFor(() => ids.every((id) => env.row(id).state === "delivered"), "all delivered");
    for (const id of ids) {
      assert.equal(env.rx.pushes(id).length, 2, id);
      assert.equal(env.row(id).attempts, 1);
    }
    await d2.quit();
  });

test("a stop lets requests in flight finish for a bounded time, the rest stay pending",
  async (t) => {
    const env = await setup(t);
    env.rx.handler = () => "hang";
    const d1 = await env.driver();
    const id = await d1.add("s1", "cdr", cdrBody("s1"));
    await waitFor(() => env.rx.pushes().length === 1, "the push in flight");
    await d1.quit(); // stop_timeout_ms = 500 < the request timeout (800 ms)
    const row = env.row(id);
    assert.equal(row.state, "pending");
    assert.equal(row.attempts, 0);

    env.rx.handler = () => ({ status: 200, body: { ErrCode: 0 } });
    const d2 = await env.driver();
    await waitFor(() => env.row(id).state === "delivered", "delivered after the restart");
    await d2.quit();
  });

test("nothing is queued for an instance without push, with push off, or an event off",
  async (t) => {
    const env = await setup(t);
    const d = await env.driver();
    assert.equal(await d.add("s1", "cdr", {}, 1400000099), null);
    assert.equal(await d.add("s1", "event", {}), null); // the extension is off by default
    env.config("--disable");
    assert.equal(await d.add("s1", "cdr", {}), null);
    env.config("--enable", "--events", "cdr");
    assert.equal(await d.add("s1", "record", {}), null);
    assert.notEqual(await d.add("s1", "cdr", {}), null);
    assert.equal(env.list().length, 1);
    await d.quit();
  });

test("ccc push config refuses bad settings and never prints secrets", async (t) => {
  const env = await setup(t);
  const bad = (args, re) => assert.throws(() => env.config(...args), (e) => {
    assert.match(e.stderr, re);
    return true;
  });
  bad(["--url", "ftp://x/"], /http:\/\/ or https:\/\//);
  bad(["--url", "http://u:p@127.0.0.1/"], /user:password@/);
  bad(["--events", "cdr,calls"], /bad --events/);
  bad(["--retry-schedule", "1h"], /bad --retry-schedule/);
  bad(["--auth", "oauth2", "--client-id", "x"], /oauth2 needs a token URL/);
  bad(["--auth", "magic"], /bad --auth/);
  assert.throws(() => ccc("push", "config", "--config", env.conf, "--sdkappid", "7",
    "--url", "http://127.0.0.1/"), /no instance 7/);
  const shown = env.config("--auth", "oauth2", "--token-url", `${env.rx.url}/token`,
    "--client-id", "id", "--client-secret", "TopSecret123", "--retry-schedule", "1s,2s",
    "--timeout-ms", "1500");
  assert.match(shown, /^client_secret=\(set\)$/m);
  assert.match(shown, /^retry_schedule=1s,2s$/m);
  assert.match(shown, /^timeout_ms=1500$/m);
  assert.doesNotMatch(shown + env.config("--show"), /TopSecret123/);
});

// Issue #12: one instance whose receiver accepts and never answers took all 64 requests
// in flight (another instance's pushes waited for its timeout) and its failed rows were
// sent again at once (hundreds of connections a minute).
test("a hanging receiver neither holds up another instance's pushes nor is hammered",
  async (t) => {
    const env = await setup(t);
    const SDK2 = SDK + 1;
    const rx2 = new Receiver();
    await rx2.start();
    t.after(() => rx2.close());
    ccc("admin", "--config", env.conf, "tenant-add", "--sdkappid", String(SDK2));
    ccc("push", "config", "--config", env.conf, "--sdkappid", String(SDK2), "--url",
      `${rx2.url}/push`);
    env.config("--timeout-ms", "3000");

    let hanging = true, hung = 0, open = 0, maxOpen = 0;
    env.rx.server.on("request", (req) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      req.socket.once("close", () => open--);
    });
    env.rx.handler = () => {
      if (!hanging) return { status: 200, body: { ErrCode: 0 } };
      hung++;
      return "hang";
    };
    const arrived = new Map();
    rx2.handler = (r) => {
      arrived.set(JSON.parse(r.body).SessionId, Date.now());
      return { status: 200, body: { ErrCode: 0 } };
    };

    const d = await env.driver();
    const start = Date.now();
    for (let n = 0; n < 99; n++) await d.add(`A${n}`, "cdr", { SessionId: `A${n}` });
    await waitFor(() => hung >= 48, "the hanging receiver's share in flight", 5000);

    // The healthy instance's pushes go out at once, one after the other.
    const late = [];
    for (let n = 0; n < 5; n++) {
      const sid = `B${n}`;
      const sent = Date.now();
      await d.add(sid, "cdr", { SessionId: sid }, SDK2);
      await waitFor(() => arrived.has(sid), `${sid} at the healthy receiver`, 10000);
      late.push(arrived.get(sid) - sent);
      await sleep(100);
    }
    assert.ok(Math.max(...late) < 1500, `healthy pushes late: ${late} ms`);

    // The first wave times out (3 s): a back-off, then one request at a time after 1 s,
    // 2 s, ...
    await sleep(Math.max(0, start + 5500 - Date.now()));
    assert.ok(maxOpen <= 48, `${maxOpen} requests in flight at the hanging receiver`);
    assert.ok(hung <= 48 + 2, `${hung} requests to the hanging receiver in 5.5 s`);

    // It recovers: the backlog goes out once a probe is answered.
    hanging = false;
    await waitFor(() => env.list("--state", "delivered").length === 104, "all delivered",
      20000);
    assert.equal(env.list("--state", "dead").length, 0);
    await d.quit();
  });
