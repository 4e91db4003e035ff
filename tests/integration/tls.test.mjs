// Security of the API: HTTPS with the official SDK (a certificate from a CA the test
// makes), the config errors of a bad certificate or key, and credential rotation and
// revocation (CccdCreateCredential, CccdDescribeCredentials, CccdDisableCredential).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { startCccd, client, raw, CCCD, CCC, ROOT } from "./lib/cccd.mjs";
import { makeCa, makeCert } from "./lib/certs.mjs";

const APP = 1400000000;
const NOW = Math.floor(Date.now() / 1000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-tls-"));
const ca = makeCa(path.join(tmp, "ca"));
const api = makeCert(ca, "api", ["IP:127.0.0.1", "DNS:localhost"]);
let d; let t;
const require = createRequire(import.meta.url);
const tencentcloud = require(path.join(ROOT, "node_modules/tencentcloud-sdk-nodejs-intl-en"));

// Any action through the SDK's common client over HTTPS: the response or {err, message}.
function admin(creds) {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod: "TC3-HMAC-SHA256",
      httpProfile: { protocol: "https://", endpoint: `127.0.0.1:${d.apiPort}`, reqMethod: "POST", reqTimeout: 30 } });
  return (action, req) => new Promise((resolve) => {
    const out = { deserialize(data) { Object.assign(this, data); } };
    c.request(action, req, out, (err, resp) => {
      if (err) return resolve({ err: err.code || String(err), message: err.message });
      delete resp.deserialize;
      resolve(resp);
    });
  });
}
const cdrs = (call) => call("DescribeTelCdr", { SdkAppId: APP, StartTimeStamp: NOW - 600,
  EndTimeStamp: NOW + 60, PageSize: 10, PageNumber: 0 });

// The SDK has no option for a CA of its own: it sends through Node's https module with the
// default agent, whose options every request takes — so trusting the test CA there is what
// NODE_EXTRA_CA_CERTS would do for a whole process.
https.globalAgent.options.ca = fs.readFileSync(ca.cert);

before(async () => {
  d = await startCccd({ apiLines: [`tls_cert = ${api.cert}`, `tls_key = ${api.key}`], logLevel: "info",
    adminLines: [`tls_cert = ${api.cert}`, `tls_key = ${api.key}`] });
  t = d.addTenant(APP, { ivrs: ["4600:autoOutbound"], numbers: ["008675512345678"] });
});

after(async () => {
  await d?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("the official SDK over HTTPS: every sign mode, GET and POST", async () => {
  await d.waitLog(/listening on 127\.0\.0\.1:\d+ \(HTTPS/, "the API says it serves HTTPS");
  for (const [sign, method] of [["TC3-HMAC-SHA256", "POST"], ["TC3-HMAC-SHA256", "GET"],
    ["HmacSHA256", "POST"], ["HmacSHA1", "GET"]]) {
    for (const host of ["127.0.0.1", "localhost"]) {
      const c = client(t, `${host}:${d.apiPort}`, sign, method, "https://");
      const res = await c.DescribeTelCdr({ SdkAppId: APP, StartTimeStamp: NOW - 600,
        EndTimeStamp: NOW + 60, PageSize: 10, PageNumber: 0 });
      assert.equal(res.err, undefined, `${sign} ${method} ${host}: ${res.message}`);
      assert.equal(res.TotalCount, 0);
      assert.match(res.RequestId, /^[0-9a-f-]{36}$/);
    }
  }
  const bad = client({ ...t, TENCENTCLOUD_SECRET_KEY: "wrong" }, `127.0.0.1:${d.apiPort}`,
    "TC3-HMAC-SHA256", "POST", "https://");
  const res = await bad.DescribeTelCdr({ SdkAppId: APP, StartTimeStamp: NOW - 600,
    EndTimeStamp: NOW + 60, PageSize: 10, PageNumber: 0 });
  assert.equal(res.err, "AuthFailure.SignatureFailure");
});

test("the admin listener over HTTPS: /healthz and /metrics with the CA, plain HTTP refused", async () => {
  await d.waitLog(/admin: listening on 127\.0\.0\.1:\d+ \(HTTPS/, "the admin listener says it serves HTTPS");
  const get = (p) => new Promise((resolve, reject) => {
    https.get({ host: "127.0.0.1", port: d.adminPort, path: p, ca: fs.readFileSync(ca.cert) }, (res) => {
      let body = "";
      res.on("data", (b) => { body += b; });
      res.on("end", () => resolve({ status: res.statusCode, body }));
    }).on("error", reject);
  });
  assert.equal((await get("/healthz")).status, 200);
  const m = await get("/metrics");
  assert.equal(m.status, 200);
  assert.match(m.body, /^# HELP cccd_/m);
  await assert.rejects(fetch(`http://127.0.0.1:${d.adminPort}/healthz`), "plain HTTP gets no answer");
});

test("ccc call over HTTPS, trusting the CA of CCC_CA_FILE", () => {
  const env = { ...process.env, ...t, CCC_ENDPOINT: `https://127.0.0.1:${d.apiPort}` };
  const ok = spawnSync(CCC, ["call", "DescribeTelCdr", `SdkAppId=${APP}`,
    `StartTimeStamp=${NOW - 600}`, `EndTimeStamp=${NOW + 60}`, "PageSize=10", "PageNumber=0"],
  { env: { ...env, CCC_CA_FILE: ca.cert }, encoding: "utf8" });
  assert.equal(ok.status, 0, ok.stderr + ok.stdout);
  assert.match(ok.stdout, /"TotalCount":\s*0/);
  const refused = spawnSync(CCC, ["call", "DescribeTelCdr", `SdkAppId=${APP}`],
    { env, encoding: "utf8" });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /certificate/i);
});

test("a client that does not trust the certificate is refused by its TLS check", async () => {
  const res = await new Promise((resolve) => {
    const req = https.request({ host: "127.0.0.1", port: d.apiPort, method: "POST", path: "/",
      ca: fs.readFileSync(makeCa(path.join(tmp, "other"), "other CA").cert), agent: false },
    (r) => { r.resume(); resolve({ status: r.statusCode }); });
    req.on("error", (e) => resolve({ error: e.code }));
    req.end("{}");
  });
  assert.equal(res.error, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
});

test("plain HTTP to the HTTPS port gets no API answer", async () => {
  const res = await raw(d.apiPort, { body: "{}" }).catch((e) => ({ error: e.message }));
  assert.ok(res.error || !/"Response"/.test(res.body || ""), JSON.stringify(res));
});

// --check-config refuses each mistake with the line and the reason.
const checkConf = (lines) => {
  const conf = path.join(tmp, `c${Math.random().toString(16).slice(2)}.conf`);
  fs.writeFileSync(conf, ["[api]", "listen = 127.0.0.1:1", ...lines, "[store]",
    `path = ${tmp}/x.db`, ""].join("\n"));
  const r = spawnSync(CCCD, ["--check-config", conf], { encoding: "utf8" });
  return { code: r.status, out: r.stdout + r.stderr };
};

test("a bad certificate or key is a config error at start", () => {
  const other = makeCert(ca, "other", ["DNS:other.example"]);
  const cases = [
    [[`tls_cert = ${api.cert}`], /tls_cert and tls_key go together/],
    [[`tls_cert = ${tmp}/missing.crt`, `tls_key = ${api.key}`], /missing\.crt: No such file/],
    [[`tls_cert = ${api.key}`, `tls_key = ${api.key}`], /holds no PEM certificate/],
    [[`tls_cert = ${api.cert}`, `tls_key = ${api.cert}`], /no unencrypted PEM private key/],
    [[`tls_cert = ${api.cert}`, `tls_key = ${other.key}`], /not the private key of tls_cert/],
  ];
  for (const [lines, re] of cases) {
    const r = checkConf(lines);
    assert.notEqual(r.code, 0, lines.join(" "));
    assert.match(r.out, re);
    assert.match(r.out, /\.conf:\d+: /);
  }
  assert.equal(checkConf([`tls_cert = ${api.cert}`, `tls_key = ${api.key}`]).code, 0);
});

test("credentials: rotate (create, switch, disable the old one) and revoke; an operator revokes any", async () => {
  const old = admin(t);
  const made = await old("CccdCreateCredential", {});
  assert.equal(made.err, undefined, made.message);
  assert.match(made.SecretId, /^AKID/);
  assert.ok(made.SecretKey.length >= 32);
  const fresh = admin({ TENCENTCLOUD_SECRET_ID: made.SecretId, TENCENTCLOUD_SECRET_KEY: made.SecretKey });
  assert.equal((await cdrs(fresh)).err, undefined, "the new credential works at once");
  const listed = await fresh("CccdDescribeCredentials", {});
  assert.equal(listed.err, undefined, listed.message);
  // Listed by creation time (seconds), then SecretId: two made in one second by SecretId.
  const bySecret = (l) => l.map((c) => [c.SecretId, c.Enabled]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  assert.deepEqual(bySecret(listed.Credentials),
    bySecret([{ SecretId: t.TENCENTCLOUD_SECRET_ID, Enabled: true }, { SecretId: made.SecretId, Enabled: true }]));
  assert.ok(!JSON.stringify(listed).includes(made.SecretKey), "keys are never listed");

  // a credential cannot disable itself; another of the account can
  const self = await old("CccdDisableCredential", { CredentialId: t.TENCENTCLOUD_SECRET_ID });
  assert.equal(self.err, "InvalidParameterValue");
  const off = await fresh("CccdDisableCredential", { CredentialId: t.TENCENTCLOUD_SECRET_ID });
  assert.equal(off.err, undefined, off.message);
  assert.equal((await cdrs(old)).err, "AuthFailure.SecretIdNotFound", "the old one is refused at once");
  assert.equal((await cdrs(fresh)).err, undefined);
  const after = await fresh("CccdDescribeCredentials", {});
  assert.deepEqual(bySecret(after.Credentials),
    bySecret([{ SecretId: t.TENCENTCLOUD_SECRET_ID, Enabled: false }, { SecretId: made.SecretId, Enabled: true }]));

  // another tenant cannot touch this account's credential; an operator can
  const other = admin(d.addTenant(APP + 1, { ivrs: ["4600:autoOutbound"], numbers: ["008675512345679"] }));
  const theirs = await other("CccdDisableCredential", { CredentialId: made.SecretId });
  assert.equal(theirs.err, "InvalidParameterValue");
  assert.equal((await cdrs(fresh)).err, undefined);
  const op = admin(Object.fromEntries(d.ccc(["admin", "--config", d.confPath, "operator-add", "--name", "ops"])
    .trim().split("\n").map((l) => l.split("="))));
  const revoked = await op("CccdDisableCredential", { CredentialId: made.SecretId });
  assert.equal(revoked.err, undefined, revoked.message);
  await d.waitLog(new RegExp(`credential ${made.SecretId} disabled`), "the revocation is logged");
  // this process forgets it at once; another node sharing the store within its 5 s cache
  assert.equal((await cdrs(fresh)).err, "AuthFailure.SecretIdNotFound");
});

test("ccc admin: a new credential for an account that lost its keys, and a revocation", async () => {
  const acct = d.addTenant(APP + 2, { ivrs: ["4600:autoOutbound"], numbers: ["008675512345670"] });
  const made = Object.fromEntries(d.ccc(["admin", "--config", d.confPath, "credential-add",
    "--account", acct.ACCOUNT_ID]).trim().split("\n").map((l) => l.split("=")));
  assert.equal(made.ACCOUNT_ID, acct.ACCOUNT_ID);
  const fresh = admin(made);
  assert.equal((await fresh("DescribeTelCdr", { SdkAppId: APP + 2, StartTimeStamp: NOW - 600,
    EndTimeStamp: NOW + 60, PageSize: 10, PageNumber: 0 })).err, undefined);
  d.ccc(["admin", "--config", d.confPath, "credential-disable", "--secret-id", acct.TENCENTCLOUD_SECRET_ID]);
  const listed = await fresh("CccdDescribeCredentials", {});
  assert.deepEqual(listed.Credentials.map((c) => [c.SecretId, c.Enabled]).sort(),
    [[acct.TENCENTCLOUD_SECRET_ID, false], [made.TENCENTCLOUD_SECRET_ID, true]].sort());
  const none = spawnSync(CCC, ["admin", "--config", d.confPath, "credential-add", "--account", "999999"],
    { encoding: "utf8" });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no such account/);
});
