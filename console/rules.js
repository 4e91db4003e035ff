// rules: the instance's calling rules (CccdDescribeCalloutRules, as JSON) and blacklist
// (CccdDescribeBlacklist); administrators edit both (CccdModifyCalloutRules,
// CccdModifyBlacklist).
import { call, can } from "./api.js";
import { h, table, errorBox } from "./dom.js";

export default async function rules(root) {
  const out = h("div", { id: "rules-result" });
  const r = await call("CccdDescribeCalloutRules", {});
  let text = r.Rules;
  try { text = JSON.stringify(JSON.parse(r.Rules), null, 2); } catch { /* shown as sent */ }
  const edit = can("CccdModifyCalloutRules");
  const area = h("textarea", { id: "rules-doc", readonly: !edit, spellcheck: "false" });
  area.value = text;
  root.append(h("h1", {}, "Calling rules"), area,
    edit ? h("p", {}, h("button", { type: "button", id: "rules-save", onclick: async () => {
      out.replaceChildren();
      try {
        await call("CccdModifyCalloutRules", { Rules: area.value });
        out.append(h("p", {}, "Saved."));
      } catch (e) {
        out.append(errorBox(e));
      }
    } }, "Save the rules")) : "", out);

  const bl = h("div", { id: "blacklist" });
  root.append(h("h2", {}, "Blacklist"), bl);
  async function load() {
    const b = await call("CccdDescribeBlacklist", {});
    const entries = b.Entries || [];
    const rows = entries.map((e) => {
      const v = typeof e === "string" ? e : JSON.stringify(e);
      return h("tr", {}, h("td", {}, v), h("td", {}, can("CccdModifyBlacklist") ?
        h("button", { type: "button", class: "danger", onclick: () => change({ Remove: [v] }) }, "Remove") : ""));
    });
    bl.replaceChildren(h("p", {}, `Blacklist ${b.Enabled === false ? "off" : "on"}, ${entries.length} entr${entries.length === 1 ? "y" : "ies"}.`),
      table(["Number", ""], rows));
    if (can("CccdModifyBlacklist")) {
      const num = h("input", { id: "blacklist-add", placeholder: "number" });
      bl.append(h("p", {}, num, " ", h("button", { type: "button", id: "blacklist-add-button",
        onclick: () => num.value.trim() && change({ Add: [num.value.trim()] }) }, "Add")));
    }
  }
  async function change(q) {
    try {
      await call("CccdModifyBlacklist", q);
      await load();
    } catch (e) {
      bl.prepend(errorBox(e));
    }
  }
  await load();
}
