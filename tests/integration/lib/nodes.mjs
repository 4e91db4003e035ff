// nodes: several cccd nodes on one PostgreSQL database, as a cluster runs them
// (docs/cluster.md): one shared database, one shared master key (the sealed secrets of the
// store open on every node), a [cluster] node_id each (node1, node2, ...). The database
// comes from the shared test cluster (lib/pg.mjs) whatever CCCD_STORE says, and is dropped
// once, by cleanup(), after every node stopped.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startCccd } from "./cccd.mjs";
import { pgDatabase } from "./pg.mjs";

// startNodes(n, opts): opts as startCccd's, for every node; opts.leaseMs: [cluster]
// lease_ms; opts.nodeOpts(i): more options for node i (0-based), merged over opts;
// opts.db: the database (pgDatabase(cluster)) instead of a new one of the shared cluster.
// Returns {db, keyDir, nodes, cleanup()}; node i has node_id `node${i + 1}`.
export async function startNodes(n, opts = {}) {
  const db = opts.db || pgDatabase();
  const shared = { ...db, drop() {} };
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "cccd-nodes-"));
  const nodes = [];
  const cleanup = () => {
    for (const d of nodes) {
      try { d.proc?.kill("SIGKILL"); } catch { /* gone */ }
      d.cleanup();
    }
    db.drop();
    fs.rmSync(keyDir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < n; i++) {
      const o = { ...opts, ...(opts.nodeOpts ? opts.nodeOpts(i) : {}) };
      const cluster = ["[cluster]", `node_id = node${i + 1}`,
        ...(o.leaseMs ? [`lease_ms = ${o.leaseMs}`] : [])].join("\n");
      nodes.push(await startCccd({
        ...o,
        pgDb: shared,
        storeLines: [`master_key_file = ${keyDir}/master.key`, ...(o.storeLines || [])],
        sections: [o.sections || "", cluster].join("\n"),
      }));
    }
  } catch (e) {
    cleanup();
    throw e;
  }
  return { db, keyDir, nodes, cleanup };
}
