// records: call records (DescribeTelCdr) by time range and number, filtered by outcome,
// a page at a time; a record's details: its key presses, its IVR path
// (CccdDescribeSessionPath) and its recording, played in the page.
import { call } from "./api.js";
import { h, table, when, errorBox } from "./dom.js";

const PAGE = 20;

function localInput(unix) {
  const d = new Date(unix * 1000);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

export default async function records(root, sessionId) {
  const now = Math.floor(Date.now() / 1000);
  const form = h("form", { class: "inline", id: "cdr-filter" },
    h("label", {}, "From", h("input", { type: "datetime-local", name: "from", value: localInput(now - 86400) })),
    h("label", {}, "To", h("input", { type: "datetime-local", name: "to", value: localInput(now + 60) })),
    h("label", {}, "Number", h("input", { name: "phone", placeholder: "caller or callee" })),
    h("label", {}, "Outcome", h("select", { name: "status" }, h("option", { value: "" }, "any"),
      h("option", { value: "answered" }, "answered"), h("option", { value: "unanswered" }, "not answered"))),
    h("button", { type: "submit" }, "Search"));
  const list = h("div", { id: "cdr-list" });
  const detail = h("div", { id: "cdr-detail" });
  let page = 0;
  root.append(h("h1", {}, "Call records"), form, list, detail);

  async function load() {
    const from = Math.floor(new Date(form.from.value).getTime() / 1000);
    const to = Math.floor(new Date(form.to.value).getTime() / 1000);
    const q = { StartTimeStamp: from, EndTimeStamp: to, PageSize: PAGE, PageNumber: page };
    if (form.phone.value.trim()) q.Phones = [form.phone.value.trim()];
    try {
      const r = await call("DescribeTelCdr", q);
      // DescribeTelCdr has no outcome filter: this page's records are filtered here.
      const want = form.status.value;
      const cdrs = (r.TelCdrList || []).filter((c) => !want ||
        (want === "answered") === (c.AcceptTimestamp > 0));
      const rows = cdrs.map((c) => h("tr", { class: "pick cdr", "data-session": c.SessionId,
        onclick: () => showDetail(c) },
      h("td", {}, when(c.StartTimestamp)), h("td", {}, c.Caller), h("td", {}, c.Callee),
      h("td", {}, `${c.Duration} s`), h("td", { class: "end" }, c.EndStatusString),
      h("td", {}, c.RecordURL ? "●" : "")));
      const pages = Math.max(1, Math.ceil(r.TotalCount / PAGE));
      list.replaceChildren(table(["Started", "Caller", "Callee", "Duration", "Outcome", "Rec."], rows),
        h("p", {}, h("button", { type: "button", disabled: page === 0, onclick: () => { page--; load(); } }, "‹ Previous"),
          ` page ${page + 1} of ${pages} (${r.TotalCount} records) `,
          h("button", { type: "button", disabled: page + 1 >= pages, onclick: () => { page++; load(); } }, "Next ›")));
      if (sessionId) {
        const c = (r.TelCdrList || []).find((x) => x.SessionId === sessionId);
        if (c) showDetail(c);
        sessionId = "";
      }
    } catch (e) {
      list.replaceChildren(errorBox(e));
    }
  }

  async function showDetail(c) {
    const keys = (c.IVRKeyPressedEx || []).map((k) => h("tr", {}, h("td", {}, k.Key),
      h("td", {}, k.Label), h("td", {}, when(k.Timestamp))));
    const path = h("div", { id: "cdr-path" });
    detail.replaceChildren(h("h2", {}, `Session ${c.SessionId}`),
      h("p", {}, `${c.Caller} → ${c.Callee}, ${c.EndStatusString}, hung up by ${c.HungUpSide || "?"}`),
      c.RecordURL ? h("audio", { controls: true, src: c.RecordURL, id: "recording" }) : h("p", { class: "muted" }, "No recording."),
      h("h2", {}, "Key presses"), keys.length ? table(["Key", "Label", "At"], keys) : h("p", { class: "muted" }, "None."),
      h("h2", {}, "IVR path"), path,
      h("p", {}, h("a", { href: `#flows/${encodeURIComponent(c.SessionId)}`, id: "show-on-flow" }, "Show the path on the flow graph")));
    try {
      const p = await call("CccdDescribeSessionPath", { SessionId: c.SessionId });
      path.replaceChildren(p.Path.length ? h("ol", {}, p.Path.map((s) =>
        h("li", {}, `${s.Label || s.Node} (${s.Node})${s.Result ? ` → ${s.Result}` : ""}`))) :
        h("p", { class: "muted" }, "No IVR steps."));
    } catch (e) {
      path.replaceChildren(errorBox(e));
    }
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); page = 0; load(); });
  await load();
}
