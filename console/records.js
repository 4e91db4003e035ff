// records: call records (DescribeTelCdr) by time range, number and outcome (cccd's
// CccdEndStatus: a group of EndStatus codes, or one), a page at a time; a record's
// details: its key presses, its IVR path (CccdDescribeSessionPath) and its recording,
// played in the page.
import { call } from "./api.js";
import { h, table, when, errorBox } from "./dom.js";

const PAGE = 20;

// The outcomes a supervisor asks for, as EndStatus codes (docs/console.md): every code
// TCCC publishes is in one group.
const GROUPS = [
  ["answered", "answered", [1, 107, 213, 219, 222, 228, 229, 230, 231, 232, 233]],
  ["unanswered", "not answered", [17, 102, 103, 104, 202, 203, 206, 209, 220, 221]],
  ["refused", "refused (rules, blacklist, hours)", [100, 105, 106, 108, 109, 110, 111, 216, 217, 218]],
  ["failed", "failed", [0, 2, 201, 204, 205, 207, 208, 210, 211, 212, 215, 225, 226, 227, 501, 502, 503]],
];
const NAMES = { 0: "error", 1: "ok", 2: "unconnected", 17: "seatGiveUp", 100: "blackList",
  102: "ivrGiveUp", 103: "waitingGiveUp", 104: "ringingGiveUp", 105: "noSeatOnline",
  106: "notWorkTime", 107: "ivrEnd", 108: "restrictedCallee", 109: "tooManyRequest",
  110: "restrictedArea", 111: "restrictedTime", 201: "unknown", 202: "notAnswer",
  203: "userReject", 204: "powerOff", 205: "numberNotExist", 206: "busy", 207: "outOfCredit",
  208: "operatorError", 209: "callerCancel", 210: "notInService", 211: "clientError",
  212: "carrierBlocked", 213: "callReminder", 215: "numberInvalid", 216: "callRestricted",
  217: "calleeRestricted", 218: "areaRestricted", 219: "promptCallForwarding",
  220: "callerCancelWhileRing", 221: "callerCancelWithoutRing", 222: "voiceMailReached",
  225: "asrError", 226: "llmasrError", 227: "ttsError", 228: "functionCallHangup",
  229: "maxCallDurationReached", 230: "userInactivity", 231: "callTerminatedByAPI",
  232: "userHangupDuringAiCall", 233: "aiAgentEndCall", 501: "callConflict",
  502: "clientTimeout", 503: "voipClientError" };

// The select's value → CccdEndStatus ("" = any outcome: no filter).
function codesOf(value) {
  if (!value) return null;
  const g = GROUPS.find(([v]) => v === value);
  return g ? g[2] : [Number(value)];
}

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
    h("label", {}, "Outcome", h("select", { name: "status", id: "cdr-status" },
      h("option", { value: "" }, "any"),
      GROUPS.map(([v, label]) => h("option", { value: v }, label)),
      h("optgroup", { label: "one EndStatus" }, Object.entries(NAMES).map(([code, name]) =>
        h("option", { value: code }, `${code} ${name}`))))),
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
    const codes = codesOf(form.status.value);
    if (codes) q.CccdEndStatus = codes;
    try {
      const r = await call("DescribeTelCdr", q);
      const rows = (r.TelCdrList || []).map((c) => h("tr", { class: "pick cdr", "data-session": c.SessionId,
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
      // Through the console's own path (the session's cookie), not RecordURL: the link's
      // origin ([records] public_url) may be another than the console's.
      c.RecordURL ? h("audio", { controls: true, preload: "metadata", id: "recording",
        src: `/console/api/recording/${encodeURIComponent(c.SessionId)}` }) :
        h("p", { class: "muted" }, "No recording."),
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
