// The demo's two small services beside cccd:
//  - the data-push receiver on http://127.0.0.1:9090/push: prints every push and answers
//    as TCCC expects ({"ErrCode":0}), ignoring duplicates by X-TCCC-PUSH-UUID;
//  - the order endpoint on http://127.0.0.1:9091/ivr that the demo IVR's HTTP node calls:
//    answers {"status":"shipped","delivery":{"date":"tomorrow"}} (docs/flows.md §6).
// Usage: node demo/services.mjs [pushPort] [ivrPort]
import http from "node:http";

const pushPort = Number(process.argv[2] || 9090);
const ivrPort = Number(process.argv[3] || 9091);
const seen = new Set();

function body(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

function json(res, value) {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify(value));
}

http.createServer(async (req, res) => {
  const text = await body(req);
  const url = new URL(req.url, "http://x");
  const id = req.headers["x-tccc-push-uuid"] || "";
  const dup = seen.has(id) ? " (duplicate, ignored)" : "";
  seen.add(id);
  let shown = text;
  try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* print as sent */ }
  console.log(`push ${url.searchParams.get("action") || "?"} ${id}${dup}\n${shown}\n`);
  json(res, { ErrCode: 0, ErrMsg: "ok" });
}).listen(pushPort, "127.0.0.1", () => console.log(`demo push receiver on 127.0.0.1:${pushPort}/push`));

http.createServer(async (req, res) => {
  const text = await body(req);
  console.log(`ivr endpoint: ${req.method} ${req.url} ${text}`);
  json(res, { status: "shipped", delivery: { date: "tomorrow" } });
}).listen(ivrPort, "127.0.0.1", () => console.log(`demo order endpoint on 127.0.0.1:${ivrPort}/ivr`));
