// dom: building elements without innerHTML, so that no text from the server is ever read
// as markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function table(headers, rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((t) => h("th", {}, t)))),
    h("tbody", {}, rows));
}

export function when(unix) {
  const n = Number(unix);
  return n ? new Date(n * 1000).toISOString().replace("T", " ").slice(0, 19) : "";
}

export function errorBox(e) {
  return h("p", { class: "error" }, `${e.code || "Error"}: ${e.message}`);
}
