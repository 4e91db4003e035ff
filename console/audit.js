// audit: every change made through the console — who, when, what, with what outcome
// (CccdDescribeConsoleAudit), newest first, 50 to a page.
import { call } from "./api.js";
import { h, table, when } from "./dom.js";

export default async function audit(root) {
  const body = h("div", { id: "audit" });
  let offset = 0;
  root.append(h("h1", {}, "Audit log"), body);
  async function load() {
    const r = await call("CccdDescribeConsoleAudit", { Offset: offset, Limit: 50 });
    body.replaceChildren(table(["When (UTC)", "User", "Action", "Result", "Request"],
      (r.Entries || []).map((e) => h("tr", { class: "audit-entry" }, h("td", {}, when(e.Timestamp)),
        h("td", {}, e.UserName), h("td", { class: "action" }, e.Action), h("td", {}, e.Result),
        h("td", {}, h("code", {}, e.Summary))))),
    h("p", {}, h("button", { type: "button", disabled: offset === 0, onclick: () => { offset -= 50; load(); } }, "‹ Newer"),
      ` ${r.TotalCount} entries `,
      h("button", { type: "button", disabled: offset + 50 >= r.TotalCount, onclick: () => { offset += 50; load(); } }, "Older ›")));
  }
  await load();
}
