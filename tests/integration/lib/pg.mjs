// pg: PostgreSQL for the integration files. CCCD_STORE=postgresql makes startCccd run every
// cccd on PostgreSQL, each in a database of its own (CREATE DATABASE per cccd, dropped by
// its cleanup), so files and cccds running at once never share data.
//
// The cluster is a throwaway one (tests/pg/pg-tmp.sh): the one CCCD_PG_DIR names when
// set (scripts/test.sh starts one for the whole run and stops it at the end; its unix
// socket reaches into every file's network namespace), else one started by this process
// on first use and stopped when it exits.
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(new URL("../../..", import.meta.url).pathname);
const PG_TMP = path.join(ROOT, "tests", "pg", "pg-tmp.sh");

export const STORE = process.env.CCCD_STORE || "sqlite";
if (!["sqlite", "postgresql"].includes(STORE)) throw new Error(`CCCD_STORE=${STORE}: sqlite or postgresql`);

let cluster = null;
let counter = 0;

// A cluster of this process's own, stopped when it exits: {dir, dsn, passwordFile,
// restart(), stop()}.
export function pgOwnCluster() {
  const dir = path.join(os.tmpdir(), `cccd-pg-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  execFileSync(PG_TMP, ["start", dir], { env: { ...process.env, PG_TMP_FSYNC: "off" }, stdio: ["ignore", "pipe", "inherit"] });
  const stop = () => {
    try { execFileSync(PG_TMP, ["stop", dir], { stdio: "ignore" }); } catch { /* best effort */ }
  };
  process.on("exit", stop);
  return {
    dir,
    dsn: fs.readFileSync(path.join(dir, "dsn"), "utf8").trim(),
    passwordFile: path.join(dir, "password"),
    // A crash and a start again (pg_ctl stop -m immediate, start): every connection cut.
    restart() { execFileSync(PG_TMP, ["restart", dir], { stdio: ["ignore", "pipe", "inherit"] }); },
    stop,
  };
}

// A primary and its synchronous streaming standby of this process's own (pg-tmp.sh
// start-pair), stopped when it exits: {dir, dsn, passwordFile, primaryPort, standbyPort,
// standbyDsn, crashPrimary(), promote(), stop()}. dsn names both servers over TCP on 127.0.0.1 with
// target_session_attrs=read-write (docs/cluster.md §The PostgreSQL standby): psql and
// pgDatabase() through it reach whichever is the primary.
export function pgOwnPair() {
  const dir = path.join(os.tmpdir(), `cccd-pgp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const run = (cmd) => execFileSync(PG_TMP, [cmd, dir], { env: { ...process.env, PG_TMP_FSYNC: "off" },
    stdio: ["ignore", "pipe", "inherit"] });
  const runAsync = (cmd) => new Promise((resolve, reject) => execFile(PG_TMP, [cmd, dir],
    (err, stdout, stderr) => (err ? reject(new Error(`pg-tmp.sh ${cmd}: ${stderr}`)) : resolve())));
  run("start-pair");
  const stop = () => {
    try { execFileSync(PG_TMP, ["stop", dir], { stdio: "ignore" }); } catch { /* best effort */ }
  };
  process.on("exit", stop);
  const read = (f) => fs.readFileSync(path.join(dir, f), "utf8").trim();
  return {
    dir,
    dsn: read("pair-dsn"),
    passwordFile: path.join(dir, "password"),
    primaryPort: Number(read("port")),
    standbyPort: Number(read("standby-port")),
    standbyDsn: read("standby-dsn"),
    // pg_ctl stop -m immediate on the primary: its connections cut, its port closed.
    // Both are promises, so that this process's requests in flight go on meanwhile.
    crashPrimary: () => runAsync("crash-primary"),
    // pg_ctl promote -w on the standby: resolves once it accepts writes.
    promote: () => runAsync("promote"),
    stop,
  };
}

// The cluster the integration files share: {dir, dsn, passwordFile}.
export function pgCluster() {
  if (cluster) return cluster;
  const dir = process.env.CCCD_PG_DIR;
  cluster = dir ? {
    dir,
    dsn: fs.readFileSync(path.join(dir, "dsn"), "utf8").trim(),
    passwordFile: path.join(dir, "password"),
  } : pgOwnCluster();
  return cluster;
}

// Runs SQL as the superuser of cluster c (default: the shared one) on database db
// (default: postgres); returns psql's unaligned output.
export function psql(sql, db = "postgres", c = pgCluster()) {
  return execFileSync("psql", [`${c.dsn} dbname=${db}`, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], {
    encoding: "utf8",
    env: { ...process.env, PGPASSWORD: fs.readFileSync(c.passwordFile, "utf8").trim() },
  });
}

// A new, empty database of cluster c (default: the shared one): {name, dsn,
// passwordFile, drop()}.
export function pgDatabase(c = pgCluster()) {
  const name = `cccd_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  psql(`CREATE DATABASE ${name}`, "postgres", c);
  return {
    name,
    cluster: c,
    dsn: `${c.dsn} dbname=${name}`,
    passwordFile: c.passwordFile,
    drop() {
      try { psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, "postgres", c); } catch { /* the cluster is gone */ }
    },
  };
}

// The [store] keys that put a cccd on database db.
export function pgStoreLines(db) {
  return ["backend = postgresql", `dsn = ${db.dsn}`, `password_file = ${db.passwordFile}`];
}
