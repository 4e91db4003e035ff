// calls: the instance's live calls (DescribePSTNActiveSessionList), refreshed every 3 s;
// supervisors and administrators hang one up (HangUpCall).
import { call, can } from "./api.js";
import { h, table, errorBox } from "./dom.js";

export default async function calls(root) {
  const body = h("div", { id: "calls" });
  const note = h("p", { class: "muted" }, "Refreshed every 3 seconds.");
  root.append(h("h1", {}, "Live calls"), note, body);
  async function refresh() {
    try {
      const r = await call("DescribePSTNActiveSessionList", { Offset: 0, Limit: 25 });
      const rows = (r.Sessions || []).map((s) => h("tr", { class: "call", "data-session": s.SessionID },
        h("td", {}, s.SessionID), h("td", {}, s.Caller), h("td", {}, s.Callee),
        h("td", { class: "state" }, s.SessionStatus),
        h("td", {}, s.StartTimestamp ? new Date(Number(s.StartTimestamp) * 1000).toISOString().slice(11, 19) : ""),
        h("td", {}, can("HangUpCall") ? h("button", { class: "danger hangup", type: "button",
          onclick: async (ev) => {
            ev.target.disabled = true;
            try {
              await call("HangUpCall", { SessionId: s.SessionID });
            } catch (e) {
              body.prepend(errorBox(e));
            }
            refresh();
          } }, "Hang up") : "")));
      body.replaceChildren(h("p", {}, `${r.Total} call${r.Total === 1 ? "" : "s"} in progress`),
        table(["Session", "Caller", "Callee", "State", "Started (UTC)", ""], rows));
    } catch (e) {
      body.replaceChildren(errorBox(e));
    }
  }
  await refresh();
  const t = setInterval(refresh, 3000);
  return () => clearInterval(t);
}
