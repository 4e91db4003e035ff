// Helper for integration tests: starts a real cccd on free loopback ports with a temporary
// database, provisions tenants with `ccc admin`, and wraps the official Node SDK.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const variant = process.env.CCCD_BUILD || 'release';
export const bin = (name) => path.join(root, 'build', variant, name);
const require = createRequire(import.meta.url);
export const tencentcloud = require(path.join(root, 'node_modules/tencentcloud-sdk-nodejs-intl-en'));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A cccd process; start() again after stop()/kill9() reuses the same database and ports.
export class Cccd {
  constructor(extraConf = '') {
    this.dir = mkdtempSync(path.join(tmpdir(), 'cccd-it-'));
    this.conf = path.join(this.dir, 'cccd.conf');
    this.extraConf = extraConf;
    this.log = '';
  }

  async start() {
    if (!this.port) {
      this.port = await freePort();
      this.sipPort = await freePort();
      writeFileSync(this.conf, `[api]\nlisten = 127.0.0.1:${this.port}\n${this.extraConf}` +
        `[store]\npath = ${this.dir}/cccd.db\n[sip]\nlisten = 127.0.0.1:${this.sipPort}\n` +
        // A trunk for every number, so that CreateIVRSession has a route; its calls go to
        // the discard port on loopback and fail, which these API tests do not look at.
        '[trunk sink]\nhost = 127.0.0.1\nport = 9\ntransport = udp\nroute = *\noptions_interval = 0\n' +
        // Calls still trying that sink are hung up at once on SIGTERM.
        '[session]\nstop_wait = 0\n' +
        `[log]\nlevel = warn\n`);
    }
    this.proc = spawn(bin('cccd'), ['--config', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    const exited = new Promise((r) => this.proc.once('exit', (code, sig) => r({ code, sig })));
    this.exited = exited;
    for (let i = 0; i < 100; i++) {  // at most 10 s
      if (await canConnect(this.port)) return this;
      const done = await Promise.race([exited, sleep(100).then(() => null)]);
      if (done) throw new Error(`cccd exited (${done.code}): ${this.log}`);
    }
    throw new Error(`cccd did not listen on ${this.port}: ${this.log}`);
  }

  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) return;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(t);
  }

  kill9() { return this.stop('SIGKILL'); }

  // Stops cccd and removes its files; a non-zero exit (a sanitizer report, a crash on
  // shutdown) fails the caller with the log.
  async close() {
    await this.stop();
    const { code, sig } = await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`cccd exited with ${code ?? sig}:\n${this.log.slice(-4000)}`);
  }

  get endpoint() { return `127.0.0.1:${this.port}`; }

  // ccc admin tenant-add; returns { id, key, account }. Rules default to the demo set
  // (calls at any hour, no per-callee limits) so that tests do not depend on the clock.
  addTenant(sdkappid, { edition, packageExpires, ivrs = [], numbers = [], rules = 'demo' } = {}) {
    const args = ['admin', '--config', this.conf, 'tenant-add', '--sdkappid', String(sdkappid),
      '--rules', rules];
    if (edition) args.push('--edition', edition);
    if (packageExpires) args.push('--package-expires', String(packageExpires));
    for (const i of ivrs) args.push('--ivr', i);
    for (const n of numbers) args.push('--number', n);
    const out = execFileSync(bin('ccc'), args, { encoding: 'utf8' });
    const v = Object.fromEntries(out.trim().split('\n').map((l) => l.split('=')));
    return { id: v.TENCENTCLOUD_SECRET_ID, key: v.TENCENTCLOUD_SECRET_KEY, account: v.ACCOUNT_ID };
  }
}

// An SDK client; call() resolves to the response, or to { code, message, requestId } on error.
export function client(cred, endpoint, signMethod = 'HmacSHA256', reqMethod = 'POST') {
  const { ccc, common } = tencentcloud;
  const hp = new common.HttpProfile('http://', endpoint, reqMethod, 10);
  const c = new ccc.v20200210.Client(new common.Credential(cred.id, cred.key), 'ap-singapore',
    new common.ClientProfile(signMethod, hp));
  return {
    call: (action, req) => new Promise((resolve) => {
      c[action](req, (err, data) => resolve(err ? { code: err.code, message: err.message,
        requestId: err.requestId, traceId: err.traceId } : data));
    }),
  };
}

// A raw HTTP request to cccd; resolves to { status, headers, body (parsed when JSON) }.
export function raw(port, { method = 'POST', path: p = '/', headers = {}, body = '' } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        let parsed = data;
        try { parsed = JSON.parse(data); } catch { /* left as text */ }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    if (body) req.write(body);
    req.end();
  });
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export { readFileSync };
