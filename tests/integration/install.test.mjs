// make install into a DESTDIR: every file where docs/install.md says, the installed config
// checks ok, the systemd unit passes `systemd-analyze verify` (its paths moved under the
// DESTDIR, where the files are), an admin's config is never overwritten, and make
// uninstall leaves the config. The unit's hardening is verified, not run: that needs
// systemd as PID 1.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, VARIANT } from "./lib/cccd.mjs";

const D = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-install-"));
after(() => fs.rmSync(D, { recursive: true, force: true }));

function make(target) {
  const r = spawnSync("make", ["-s", target, `DESTDIR=${D}`, `VARIANT=${VARIANT}`],
    { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, `make ${target}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// A file of the installed tree with its absolute paths moved under DESTDIR.
function underDestdir(rel) {
  const text = fs.readFileSync(path.join(D, rel), "utf8")
    .replace(/\/usr\/local\//g, `${D}/usr/local/`).replace(/\/etc\/cccd\//g, `${D}/etc/cccd/`)
    .replace(/\/var\/lib\/cccd\//g, `${D}/var/lib/cccd/`);
  const out = path.join(D, "moved", path.basename(rel));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
  return out;
}

test("make install, check-config, systemd-analyze verify, config kept, uninstall", () => {
  make("install");
  for (const f of ["usr/local/sbin/cccd", "usr/local/bin/ccc", "etc/cccd/cccd.conf",
    "usr/local/share/doc/cccd/examples/cccd.conf", "usr/local/share/doc/cccd/install.md",
    "usr/local/share/doc/cccd/examples/kamailio.cfg", "usr/local/share/doc/cccd/examples/nginx-cccd-api.conf",
    "usr/local/share/doc/cccd/cluster.md",
    "usr/local/share/cccd/blind-areas/CN-XJ.txt", "usr/local/share/cccd/flows/4500.json",
    "usr/local/lib/systemd/system/cccd.service", "usr/local/lib/sysusers.d/cccd.conf"])
    assert.ok(fs.existsSync(path.join(D, f)), `${f} installed`);
  assert.equal(fs.statSync(path.join(D, "etc/cccd/cccd.conf")).mode & 0o777, 0o640);

  // the installed binary checks the installed config (its paths under DESTDIR)
  const conf = underDestdir("etc/cccd/cccd.conf");
  const c = spawnSync(path.join(D, "usr/local/sbin/cccd"), ["--check-config", "--config", conf],
    { encoding: "utf8" });
  assert.equal(c.status, 0, c.stderr);

  const unit = fs.readFileSync(path.join(D, "usr/local/lib/systemd/system/cccd.service"), "utf8");
  for (const k of ["NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory=cccd",
    "ProtectHome=yes", "PrivateTmp=yes", "LimitNOFILE=", "LimitRTPRIO=", "User=cccd",
    "RestrictAddressFamilies=", "CapabilityBoundingSet=\n",
    "ExecStartPre=/usr/local/sbin/cccd --check-config --config /etc/cccd/cccd.conf",
    "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "TimeoutStopSec="])
    assert.ok(unit.includes(k), `the unit has ${k.trim()}`);
  const v = spawnSync("systemd-analyze", ["verify", underDestdir("usr/local/lib/systemd/system/cccd.service")],
    { encoding: "utf8" });
  assert.equal(v.status, 0, `systemd-analyze verify:\n${v.stdout}${v.stderr}`);
  assert.equal(v.stderr.trim(), "", "no warnings");

  // an admin's config survives a second install
  fs.appendFileSync(path.join(D, "etc/cccd/cccd.conf"), "# mine\n");
  assert.match(make("install"), /kept .*etc\/cccd\/cccd\.conf/);
  assert.match(fs.readFileSync(path.join(D, "etc/cccd/cccd.conf"), "utf8"), /# mine\n$/);

  make("uninstall");
  assert.ok(!fs.existsSync(path.join(D, "usr/local/sbin/cccd")));
  assert.ok(!fs.existsSync(path.join(D, "usr/local/share/cccd")));
  assert.ok(fs.existsSync(path.join(D, "etc/cccd/cccd.conf")), "the config stays");
});
