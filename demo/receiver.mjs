// The demo's data-push receiver: prints every push cccd sends to
// http://127.0.0.1:9090/push and answers as TCCC expects ({"ErrCode":0}).
// Usage: node demo/receiver.mjs [port]
import http from "node:http";

const port = Number(process.argv[2] || 9090);
const seen = new Set();

http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const url = new URL(req.url, "http://x");
    const id = req.headers["x-tccc-push-uuid"] || "";
    const dup = seen.has(id) ? " (duplicate, ignored)" : "";
    seen.add(id);
    let body = Buffer.concat(chunks).toString("utf8");
    try { body = JSON.stringify(JSON.parse(body), null, 2); } catch { /* print as sent */ }
    console.log(`push ${url.searchParams.get("action") || "?"} ${id}${dup}\n${body}\n`);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ ErrCode: 0, ErrMsg: "ok" }));
  });
}).listen(port, "127.0.0.1", () => console.log(`demo push receiver on 127.0.0.1:${port}/push`));
