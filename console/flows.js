// flows: the instance's IVR flows, the current and older versions drawn as a graph
// (graph.js) with the path a chosen call took highlighted (CccdDescribeSessionPath);
// administrators upload a new version (CccdPutIVRFlow), and a refused one is drawn with
// its findings on the nodes.
import { call, can } from "./api.js";
import { h, errorBox } from "./dom.js";
import { drawFlow, findingsOf } from "./graph.js";

export default async function flows(root, sessionId) {
  const list = await call("CccdDescribeIVRFlows", {});
  const ivrs = list.IVRs || [];
  const pick = h("select", { name: "ivr", id: "flow-ivr" }, ivrs.map((i) =>
    h("option", { value: i.IVRId }, `${i.IVRId} ${i.Name || ""} (${i.Type}, v${i.Version})`)));
  const version = h("select", { name: "version", id: "flow-version" });
  const session = h("input", { name: "session", id: "flow-session", placeholder: "SessionId", value: sessionId || "", size: 34 });
  const view = h("div", { class: "graph", id: "flow-view" });
  const info = h("div", { id: "flow-info" });
  root.append(h("h1", {}, "IVR flows"),
    h("form", { class: "inline", id: "flow-form" },
      h("label", {}, "IVR", pick), h("label", {}, "Version", version),
      h("label", {}, "Path of the call", session), h("button", { type: "submit" }, "Show")),
    info, view);

  let current = null;
  async function draw() {
    const q = { IVRId: Number(pick.value) };
    if (version.value) q.Version = Number(version.value);
    const f = await call("CccdDescribeIVRFlow", q);
    current = f;
    if (!version.options.length || version.dataset.ivr !== pick.value) {
      version.dataset.ivr = pick.value;
      version.replaceChildren(...Array.from({ length: f.CurrentVersion }, (_, i) => f.CurrentVersion - i)
        .map((v) => h("option", { value: v }, v === f.CurrentVersion ? `${v} (current)` : String(v))));
      version.value = String(f.Version);
    }
    let path = [];
    info.replaceChildren();
    if (session.value.trim()) {
      try {
        const p = await call("CccdDescribeSessionPath", { SessionId: session.value.trim() });
        path = p.Path.map((s) => s.Node);
        info.append(h("p", { id: "flow-path" }, `Path of ${session.value.trim()} (IVR ${p.IVRId} v${p.Version}): ${path.join(" → ") || "none"}`));
      } catch (e) {
        info.append(errorBox(e));
      }
    }
    view.replaceChildren(drawFlow(JSON.parse(f.Document), path));
  }

  // A session's path is drawn on the version that call ran.
  if (sessionId) {
    try {
      const p = await call("CccdDescribeSessionPath", { SessionId: sessionId });
      pick.value = String(p.IVRId);
      version.dataset.ivr = "";
      await draw();
      version.value = String(p.Version);
    } catch (e) {
      info.append(errorBox(e));
    }
  }
  if (ivrs.length) await draw();
  else view.replaceChildren(h("p", { class: "muted" }, "No IVR flows yet."));

  root.querySelector("#flow-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await draw(); } catch (e) { info.replaceChildren(errorBox(e)); }
  });
  pick.addEventListener("change", () => { version.dataset.ivr = ""; version.replaceChildren(); draw(); });

  if (!can("CccdPutIVRFlow")) return;
  const doc = h("textarea", { id: "flow-doc", spellcheck: "false" });
  const ivrId = h("input", { id: "flow-upload-ivr", name: "ivrid", inputmode: "numeric", size: 8 });
  const result = h("div", { id: "flow-upload-result" });
  root.append(h("h2", {}, "Upload a new version"),
    h("p", { class: "muted" }, "The flow document (docs/flows.md). It is checked before it is stored; findings are shown on the nodes."),
    h("label", {}, "IVR id", ivrId), doc,
    h("p", {}, h("button", { type: "button", id: "flow-upload", onclick: upload }, "Upload"),
      " ", h("button", { type: "button", onclick: () => {
        doc.value = current ? JSON.stringify(JSON.parse(current.Document), null, 2) : "";
        ivrId.value = pick.value;
      } }, "Start from the version shown")),
    result);

  async function upload() {
    result.replaceChildren();
    try {
      const r = await call("CccdPutIVRFlow", { IVRId: Number(ivrId.value), Document: doc.value });
      result.append(h("p", { id: "flow-upload-ok" }, `Stored as version ${r.Version} of IVR ${r.IVRId}.`));
      pick.value = String(r.IVRId);
      version.dataset.ivr = "";
      version.replaceChildren();
      await draw();
    } catch (e) {
      result.append(errorBox(e));
      let parsed = null;
      try { parsed = JSON.parse(doc.value); } catch { /* not JSON: no graph */ }
      if (parsed && e.code && e.code.startsWith("InvalidParameterValue")) {
        const found = findingsOf(e.message);
        const rest = found[""] || [];
        if (rest.length) result.append(h("ul", {}, rest.map((t) => h("li", {}, t))));
        view.replaceChildren(drawFlow(parsed, [], found));
      }
    }
  }
}
