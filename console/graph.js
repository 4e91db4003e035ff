// graph: an IVR flow drawn as SVG with a simple layered layout — each node in the layer of
// its longest distance from the start along the flow's first visits (breadth first), the
// nodes no path reaches in a last layer — with a call's path and validation findings
// marked on the nodes.

const NS = "http://www.w3.org/2000/svg";
const W = 170, HGT = 54, GX = 60, GY = 24;

function s(tag, attrs, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of kids) el.append(c);
  return el;
}

// Every node id a node leads to: the values of keys named next, else or on<Something>,
// wherever they sit in the node (menu keys, condition cases, parameters).
export function targets(node, ids) {
  const out = [];
  (function walk(v, key) {
    if (typeof v === "string") {
      if ((key === "next" || key === "else" || /^on[A-Z]/.test(key)) && ids.has(v) && !out.includes(v))
        out.push(v);
    } else if (Array.isArray(v)) {
      v.forEach((x) => walk(x, key));
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  })(node, "");
  return out;
}

// doc: the flow (parsed); path: node ids in the order a call entered them; findings:
// {nodeId: [text]}.
export function drawFlow(doc, path = [], findings = {}) {
  const nodes = Array.isArray(doc.nodes) ? doc.nodes.filter((n) => n && typeof n.id === "string") : [];
  const ids = new Set(nodes.map((n) => n.id));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const layer = new Map();
  const start = ids.has(doc.start) ? doc.start : nodes[0] && nodes[0].id;
  const queue = start ? [start] : [];
  if (start) layer.set(start, 0);
  while (queue.length) {
    const id = queue.shift();
    for (const t of targets(byId.get(id), ids)) {
      if (!layer.has(t)) {
        layer.set(t, layer.get(id) + 1);
        queue.push(t);
      }
    }
  }
  const last = Math.max(-1, ...layer.values()) + 1;
  for (const n of nodes) if (!layer.has(n.id)) layer.set(n.id, last);
  const rows = new Map();
  const pos = new Map();
  for (const n of nodes) {
    const l = layer.get(n.id);
    const r = rows.get(l) || 0;
    rows.set(l, r + 1);
    pos.set(n.id, { x: 10 + l * (W + GX), y: 10 + r * (HGT + GY) });
  }
  const width = 20 + (Math.max(0, ...layer.values()) + 1) * (W + GX);
  const height = 20 + Math.max(1, ...rows.values()) * (HGT + GY);
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, id: "flow-graph" });
  svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
    markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#9aa7b9" }))));
  const onPath = new Set(path);
  const steps = new Set(path.slice(1).map((id, i) => `${path[i]}>${id}`));
  for (const n of nodes) {
    for (const t of targets(n, ids)) {
      const a = pos.get(n.id), b = pos.get(t);
      const x1 = a.x + W, y1 = a.y + HGT / 2, x2 = b.x, y2 = b.y + HGT / 2;
      const back = x2 <= x1;
      const d = back ? `M ${a.x + W / 2} ${a.y + HGT} C ${a.x + W / 2} ${a.y + HGT + 40}, ${b.x + W / 2} ${b.y + HGT + 40}, ${b.x + W / 2} ${b.y + HGT}`
        : `M ${x1} ${y1} C ${x1 + GX / 2} ${y1}, ${x2 - GX / 2} ${y2}, ${x2} ${y2}`;
      svg.append(s("path", { d, class: `edge${steps.has(`${n.id}>${t}`) ? " on-path" : ""}`,
        "marker-end": "url(#arrow)", "data-from": n.id, "data-to": t }));
    }
  }
  for (const n of nodes) {
    const p = pos.get(n.id);
    const why = findings[n.id] || [];
    const cls = ["node", n.id === start ? "start" : "", onPath.has(n.id) ? "on-path" : "",
      why.length ? "finding" : ""].filter(Boolean).join(" ");
    const g = s("g", { class: cls, "data-node": n.id, transform: `translate(${p.x},${p.y})` },
      s("title", {}, [n.label || n.id, ...why].join("\n")),
      s("rect", { width: W, height: HGT }),
      s("text", { x: 8, y: 18 }, (n.label || n.id).slice(0, 24)),
      s("text", { x: 8, y: 33, class: "kind" }, `${n.type || "?"} · ${n.id}`.slice(0, 28)));
    if (why.length) g.append(s("text", { x: 8, y: 48, class: "why" }, why[0].slice(0, 27)));
    svg.append(g);
  }
  return svg;
}

// The findings of a refused flow, by node, from CccdPutIVRFlow's message
// ("...: node 'x' field: text; node 'y': text; the document: text").
export function findingsOf(message) {
  const out = {};
  const body = message.slice(message.indexOf("):") + 2);
  for (const part of body.split(";")) {
    const m = /^\s*node '([^']*)'\s*(.*)$/.exec(part);
    const key = m ? m[1] : "";
    (out[key] = out[key] || []).push((m ? m[2] : part).replace(/^[\s:]+/, "").trim());
  }
  return out;
}
