// The API front with the official Node SDK (tencentcloud-sdk-nodejs-intl-en) against a real
// cccd: every sign mode and method, the common errors, validation, rate limit, durability.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCccd, client, raw, UUID } from './lib/cccd.mjs';

const APP = 1400000000;
const CREATE_A = {
  SdkAppId: APP, Callee: '+8613012345678', IVRId: 4600, Callers: ['008675512345678'],
  Variables: [{ Key: 'name', Value: 'Li Lei' }], UUI: 'foo bar', MaxRingTimeoutSecond: 15,
};
const CREATE = CREATE_A;
let d; let a; let b; let r;
let nextApp = APP + 100;

// A tenant of its own for a test, so that one test's requests never count against another
// test's rate limit. Same IVRs and caller number as tenant a.
const fresh = () => {
  const app = nextApp++;
  return { app, ...d.addTenant(app, { ivrs: ['4600:autoOutbound', '4601:inbound', '4700:survey'],
    numbers: ['008675512345678'] }) };
};

// A trunk for every number, so that CreateIVRSession has a route; its calls go to the
// discard port on loopback and fail, which these API tests do not look at. Calls still trying
// that sink are hung up at once on SIGTERM.
const SINK = ['[trunk sink]', 'host = 127.0.0.1', 'port = 9', 'transport = udp', 'route = *',
  'options_interval = 0', '[session]', 'stop_wait = 0'].join('\n');
const cred = (id, key) => ({ TENCENTCLOUD_SECRET_ID: id, TENCENTCLOUD_SECRET_KEY: key });

before(async () => {
  d = await startCccd({ sections: SINK, logLevel: 'warn' });
  a = d.addTenant(APP, { ivrs: ['4600:autoOutbound', '4601:inbound', '4700:survey'],
    numbers: ['008675512345678'] });
  b = d.addTenant(APP + 1, { ivrs: ['4600:autoOutbound'], numbers: ['008675599999999'] });
  r = d.addTenant(APP + 2, { ivrs: ['4600:autoOutbound'], numbers: ['008675588888888'] });
});

after(async () => { await d.close(); });

const modes = [
  ['HmacSHA256', 'POST'], ['HmacSHA1', 'POST'], ['HmacSHA256', 'GET'], ['HmacSHA1', 'GET'],
  ['TC3-HMAC-SHA256', 'POST'], ['TC3-HMAC-SHA256', 'GET'],
];

for (const [sign, method] of modes) {
  for (const host of ['127.0.0.1', 'localhost']) {
    test(`CreateIVRSession + DescribeTelSession, ${sign} ${method}, ${host}:port`, async () => {
      const c = client(a, `${host}:${d.apiPort}`, sign, method);
      const res = await c.CreateIVRSession(CREATE);
      assert.match(res.SessionId ?? '', /^[0-9a-f]{32}$/, JSON.stringify(res));
      assert.match(res.RequestId, UUID);
      const got = await c.DescribeTelSession({ SdkAppId: APP, SessionId: res.SessionId });
      const s = got.Session;
      assert.ok(s, JSON.stringify(got));
      assert.equal(s.SessionID, res.SessionId);
      assert.equal(s.Callee, '008613012345678');
      assert.equal(s.Caller, '008675512345678');
      assert.equal(s.Direction, 1);
      assert.equal(typeof s.StartTimestamp, 'number');
      assert.equal(typeof s.RingTimestamp, 'number');
      assert.equal(typeof s.AcceptTimestamp, 'number');
      assert.ok(['ringing', 'seatJoining', 'inProgress', 'finished'].includes(s.SessionStatus));
      for (const k of ['RoomID', 'StaffEmail', 'StaffNumber', 'OutBoundCaller', 'OutBoundCallee',
        'ProtectedCaller', 'ProtectedCallee']) assert.equal(typeof s[k], 'string', k);
    });
  }
}

const expectCode = (res, code, re) => {
  assert.equal(res.err, code, JSON.stringify(res));
  assert.match(res.requestId, UUID);
  if (re) assert.match(res.message, re);
};

test('wrong key and unknown SecretId', async () => {
  for (const [sign, method] of modes) {
    const bad = client(cred(a.TENCENTCLOUD_SECRET_ID, 'x'.repeat(32)), d.endpoint, sign, method);
    expectCode(await bad.DescribeTelSession({ SdkAppId: APP, SessionId: 'x' }),
      'AuthFailure.SignatureFailure');
    const unknown = client(cred('AKID' + 'q'.repeat(32), a.TENCENTCLOUD_SECRET_KEY), d.endpoint, sign, method);
    expectCode(await unknown.DescribeTelSession({ SdkAppId: APP, SessionId: 'x' }),
      'AuthFailure.SecretIdNotFound');
  }
  const notKey = client(cred('hello', a.TENCENTCLOUD_SECRET_KEY), d.endpoint, 'HmacSHA256');
  expectCode(await notKey.DescribeTelSession({ SdkAppId: APP, SessionId: 'x' }),
    'AuthFailure.InvalidSecretId');
});

test('expired timestamp (the SDK with a clock 20 minutes slow)', async () => {
  // v1 reads Date.now(), TC3 new Date(): replace the global Date for the SDK's calls.
  const RealDate = Date;
  const shift = -20 * 60 * 1000;
  globalThis.Date = class extends RealDate {
    constructor(...args) { if (args.length) super(...args); else super(RealDate.now() + shift); }
    static now() { return RealDate.now() + shift; }
  };
  try {
    for (const [sign, method] of modes) {
      const c = client(a, d.endpoint, sign, method);
      expectCode(await c.DescribeTelSession({ SdkAppId: APP, SessionId: 'x' }),
        'AuthFailure.SignatureExpire');
    }
  } finally {
    globalThis.Date = RealDate;
  }
});

test("another tenant's SdkAppId is InstanceNotExist, like an unknown one", async () => {
  const c = client(a, d.endpoint, 'TC3-HMAC-SHA256');
  expectCode(await c.CreateIVRSession({ ...CREATE, SdkAppId: APP + 1 }),
    'InvalidParameterValue.InstanceNotExist');
  expectCode(await c.CreateIVRSession({ ...CREATE, SdkAppId: 1499999999 }),
    'InvalidParameterValue.InstanceNotExist');
  // B's sessions are invisible to A.
  const cb = client(b, d.endpoint);
  const res = await cb.CreateIVRSession({ ...CREATE, SdkAppId: APP + 1, Callers: [] });
  assert.ok(res.SessionId, JSON.stringify(res));
  expectCode(await c.DescribeTelSession({ SdkAppId: APP + 1, SessionId: res.SessionId }),
    'InvalidParameterValue.InstanceNotExist');
  expectCode(await c.DescribeTelSession({ SdkAppId: APP, SessionId: res.SessionId }),
    'FailedOperation.SessionNotExists');
});

test('IVR checks, callee syntax, missing, wrongly typed and unknown parameters', async () => {
  for (const [sign, method] of [['HmacSHA256', 'POST'], ['TC3-HMAC-SHA256', 'POST']]) {
    const t = fresh();
    const CREATE = { ...CREATE_A, SdkAppId: t.app };
    const c = client(t, d.endpoint, sign, method);
    expectCode(await c.CreateIVRSession({ ...CREATE, IVRId: 9999 }),
      'InvalidParameterValue', /IVR 9999 does not exist/);
    expectCode(await c.CreateIVRSession({ ...CREATE, IVRId: 4700 }),
      'InvalidParameterValue', /survey/);
    expectCode(await c.CreateIVRSession({ ...CREATE, Callee: '8613_0123' }),
      'InvalidParameterValue', /`Callee` is not a phone number/);
    expectCode(await c.CreateIVRSession({ ...CREATE, Callee: 'sip:evil@example.com' }),
      'InvalidParameterValue', /`Callee`/);
    const { Callee, ...noCallee } = CREATE;
    expectCode(await c.CreateIVRSession(noCallee), 'MissingParameter',
      /The request is missing a required parameter `Callee`\./);
    expectCode(await c.CreateIVRSession({ ...CREATE, SdkAppId: 'abc' }),
      'InvalidParameter', /`SdkAppId`/);
    expectCode(await c.CreateIVRSession({ ...CREATE, MaxRingTimeoutSecond: 500 }),
      'InvalidParameterValue', /`MaxRingTimeoutSecond` must be between 1 and 120/);
    expectCode(await c.CreateIVRSession({ ...CREATE, Colour: 'blue' }),
      'UnknownParameter', /`Colour`/);
    expectCode(await c.CreateIVRSession({ ...CREATE, Variables: [{ Key: 'a', Value: 'b', X: 1 }] }),
      'UnknownParameter', /`Variables\.0\.X`/);
    expectCode(await c.CreateIVRSession({ ...CREATE, Callers: ['008675577777777'] }),
      'FailedOperation.NoCallOutNumber');
  }
  // Decimal strings are accepted for integers in JSON (spec §3).
  const t = fresh();
  const c = client(t, d.endpoint, 'TC3-HMAC-SHA256');
  const res = await c.CreateIVRSession({ ...CREATE, SdkAppId: String(t.app), IVRId: '4601' });
  assert.ok(res.SessionId, JSON.stringify(res));
});

test('rate limit: 20 per second per account and action', async () => {
  const c = client(r, d.endpoint, 'TC3-HMAC-SHA256');
  const t0 = Date.now();
  const all = await Promise.all(Array.from({ length: 30 }, () =>
    c.DescribeTelSession({ SdkAppId: APP + 2, SessionId: 'none' })));
  const elapsed = Date.now() - t0;
  const ok = all.filter((x) => x.err === 'FailedOperation.SessionNotExists').length;
  const limited = all.filter((x) => x.err === 'RequestLimitExceeded').length;
  assert.equal(ok + limited, 30, JSON.stringify(all.find((x) => x.err !== 'RequestLimitExceeded' &&
    x.err !== 'FailedOperation.SessionNotExists')));
  if (elapsed < 900) {
    assert.equal(ok, 20);
    assert.equal(limited, 10);
  } else {
    assert.ok(ok >= 20 && limited >= 1, `${ok} accepted, ${limited} limited in ${elapsed} ms`);
  }
  // Another action of the same account has its own budget.
  const res = await c.CreateIVRSession({ ...CREATE, SdkAppId: APP + 2, Callers: [] });
  assert.ok(res.SessionId, JSON.stringify(res));
});

test('a session acknowledged survives kill -9', async () => {
  const t = fresh();
  const c = client(t, d.endpoint, 'TC3-HMAC-SHA256');
  const res = await c.CreateIVRSession({ ...CREATE, SdkAppId: t.app });
  assert.ok(res.SessionId, JSON.stringify(res));
  await d.kill();
  await d.start();
  const got = await client(t, d.endpoint, 'HmacSHA256').DescribeTelSession(
    { SdkAppId: t.app, SessionId: res.SessionId });
  assert.equal(got.Session?.SessionID, res.SessionId, JSON.stringify(got));
});

test('raw HTTP: method, size, malformed bodies, missing signature parts, envelope', async () => {
  const env = (res) => {
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.match(res.body.Response.RequestId, UUID);
    return res.body.Response.Error?.Code;
  };
  assert.equal(env(await raw(d.apiPort, { method: 'PUT', body: '{}' })), 'UnsupportedProtocol');
  assert.equal(env(await raw(d.apiPort, { method: 'DELETE' })), 'UnsupportedProtocol');
  assert.equal(env(await raw(d.apiPort, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })), 'RequestSizeLimitExceeded');
  assert.equal(env(await raw(d.apiPort, { method: 'GET', path: '/?a=' + 'x'.repeat(33 * 1024) })),
    'RequestSizeLimitExceeded');
  const tc3 = { 'Content-Type': 'application/json', 'X-TC-Action': 'CreateIVRSession',
    'X-TC-Version': '2020-02-10', 'X-TC-Timestamp': String(Math.floor(Date.now() / 1000)),
    Authorization: `TC3-HMAC-SHA256 Credential=${a.TENCENTCLOUD_SECRET_ID}/2025-11-24/ccc/tc3_request, ` +
      'SignedHeaders=content-type;host, Signature=' + '0'.repeat(64) };
  assert.equal(env(await raw(d.apiPort, { headers: tc3, body: '{"SdkAppId":' })), 'InvalidRequest');
  assert.equal(env(await raw(d.apiPort, { headers: tc3, body: '{"a":1,"a":2}' })), 'InvalidRequest');
  assert.equal(env(await raw(d.apiPort, { headers: { ...tc3, 'Content-Type': 'text/xml' },
    body: '<x/>' })), 'InvalidRequest');
  assert.equal(env(await raw(d.apiPort, { headers: { 'Content-Type': 'application/json' },
    body: '{}' })), 'AuthFailure.InvalidAuthorization');
  assert.equal(env(await raw(d.apiPort, { headers: { ...tc3, Authorization: 'TC3-HMAC-SHA256 junk' },
    body: '{}' })), 'AuthFailure.InvalidAuthorization');
  const { 'X-TC-Action': _, ...noAction } = tc3;
  const res = await raw(d.apiPort, { headers: noAction, body: '{}' });
  assert.equal(env(res), 'MissingParameter');
  assert.match(res.body.Response.Error.Message, /X-TC-Action/);
  assert.equal(env(await raw(d.apiPort, { method: 'GET', path: '/?Action=X&Signature=abc' })),
    'MissingParameter');
  assert.equal(env(await raw(d.apiPort, { method: 'GET', path: '/?Signature=%zz' })),
    'InvalidRequest');
  // A date in the credential that is not today's: SignatureFailure, after the key lookup.
  assert.equal(env(await raw(d.apiPort, { headers: tc3, body: '{}' })), 'AuthFailure.SignatureFailure');
  // Each reply has its own RequestId; the TraceId is echoed, and only when it is safe.
  const x = await raw(d.apiPort, { method: 'PUT', headers: { 'X-TC-TraceId': 'trace-123' } });
  const y = await raw(d.apiPort, { method: 'PUT' });
  assert.equal(x.headers['x-tc-traceid'], 'trace-123');
  assert.equal(y.headers['x-tc-traceid'], undefined);
  assert.notEqual(x.body.Response.RequestId, y.body.Response.RequestId);
  assert.deepEqual(Object.keys(x.body.Response), ['Error', 'RequestId']);
  // The SDK's trace id comes back on its errors.
  const e = await client(a, d.endpoint, 'HmacSHA256').DescribeTelSession({ SdkAppId: APP + 9, SessionId: 'x' });
  assert.match(e.traceId ?? '', /^[0-9a-f-]{36}$/);
});

// DescribeTelCdr's pages (docs/benchmarks.md §Records at scale), on records written straight
// into the store as any node's finished calls: each record of a page carries its own key
// presses (the page's are read at once), and a number's pages — each UNION arm cut to
// offset + limit in the page's order — follow one another newest first, then by
// SessionId, none missing or repeated, for one number and for two.
test('DescribeTelCdr: a page of records with their own key presses; a number\'s pages in order', async () => {
  const t = fresh();
  const c = client(t, `127.0.0.1:${d.apiPort}`);
  const t0 = Math.floor(Date.now() / 1000) - 3600;
  const LINE = '008675512345678', OTHER = '008675500000001';
  const calls = [];
  for (let i = 0; i < 12; i++) {
    const id = i.toString(16).padStart(2, '0').repeat(16);
    const ended = t0 + 100 + Math.floor(i / 2) * 10; // two calls end each second: ties by id
    const caller = i % 3 === 0 ? LINE : OTHER;
    calls.push({ id, ended, caller, keys: i % 2 === 0 ? ['1', String(i)] : [] });
    d.sql(`INSERT INTO sessions (id, sdkappid, account_id, direction, caller, callee, status, created_ms,
      start_ts, accept_ts, ended_ts) VALUES ('${id}', ${t.app}, 1, 1, '${caller}', '0086130000000${10 + i}',
      3, ${(ended - 60) * 1000}, ${ended - 60}, ${ended - 50}, ${ended})`);
    if (i % 2 === 0)
      d.sql(`INSERT INTO key_presses (session_id, seq, key, ts_ms) VALUES
        ('${id}', 0, '1', ${(ended - 40) * 1000}), ('${id}', 1, '${i}', ${(ended - 30) * 1000})`);
  }
  const order = (x, y) => y.ended - x.ended || (x.id < y.id ? -1 : 1);
  const range = { SdkAppId: t.app, StartTimeStamp: t0, EndTimeStamp: t0 + 3600 };
  const all = await c.DescribeTelCdr({ ...range, PageSize: 100, PageNumber: 0 });
  assert.equal(all.err, undefined, all.message);
  assert.equal(all.TotalCount, 12);
  assert.deepEqual(all.TelCdrList.map((r) => r.SessionId), [...calls].sort(order).map((x) => x.id));
  for (const r of all.TelCdrList)
    assert.deepEqual(r.IVRKeyPressed, calls.find((x) => x.id === r.SessionId).keys, r.SessionId);

  for (const [phones, size] of [[[LINE], 1], [[LINE, OTHER], 5]]) {
    const want = calls.filter((x) => phones.includes(x.caller)).sort(order).map((x) => x.id);
    const got = [];
    for (let page = 0; page * size <= want.length; page++) {
      const p = await c.DescribeTelCdr({ ...range, PageSize: size, PageNumber: page, Phones: phones });
      assert.equal(p.err, undefined, p.message);
      assert.equal(p.TotalCount, want.length);
      got.push(...p.TelCdrList.map((r) => r.SessionId));
    }
    assert.deepEqual(got, want, phones.join());
  }
});
