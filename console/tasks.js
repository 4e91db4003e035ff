// tasks: auto-callout tasks and their progress (DescribeAutoCalloutTasks,
// DescribeAutoCalloutTask); administrators pause, resume or stop one.
import { call, can } from "./api.js";
import { h, table, when, errorBox } from "./dom.js";

// docs/tasks.md §States.
const STATES = { 0: "created", 1: "running", 2: "completed", 3: "ending", 4: "stopped", 5: "paused" };
const CALLEE = { 0: "initial", 1: "answered", 2: "not answered", 3: "calling", 4: "waiting to retry" };

export default async function tasks(root) {
  const list = h("div", { id: "tasks" });
  const detail = h("div", { id: "task-detail" });
  root.append(h("h1", {}, "Auto-callout tasks"), list, detail);
  async function act(action, id) {
    try {
      await call(action, { TaskId: id });
      await load();
    } catch (e) {
      list.prepend(errorBox(e));
    }
  }
  async function show(id) {
    const t = await call("DescribeAutoCalloutTask", { TaskId: id });
    const callees = t.Callees || [];
    const counts = {};
    for (const c of callees) counts[CALLEE[c.State] || c.State] = (counts[CALLEE[c.State] || c.State] || 0) + 1;
    detail.replaceChildren(h("h2", {}, `Task ${id}: ${t.Name}`),
      h("p", {}, `${callees.length} callees · ` + Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")),
      table(["Callee", "State", "Sessions"], callees.slice(0, 200).map((c) =>
        h("tr", {}, h("td", {}, c.Callee), h("td", {}, CALLEE[c.State] || c.State), h("td", {}, (c.Sessions || []).join(" "))))));
  }
  async function load() {
    const r = await call("DescribeAutoCalloutTasks", { PageSize: 50, PageNumber: 0 });
    list.replaceChildren(table(["Task", "Name", "Callees", "IVR", "State", "Not before", ""],
      (r.Tasks || []).map((t) => h("tr", { class: "pick", "data-task": t.TaskId, onclick: () => show(t.TaskId).catch((e) => detail.replaceChildren(errorBox(e))) },
        h("td", {}, t.TaskId), h("td", {}, t.Name), h("td", {}, t.CalleeCount), h("td", {}, t.IvrId),
        h("td", {}, STATES[t.State] || t.State), h("td", {}, when(t.NotBefore)),
        h("td", { onclick: (ev) => ev.stopPropagation() },
          can("PauseAutoCalloutTask") ? [
            h("button", { type: "button", class: "pause", onclick: () => act("PauseAutoCalloutTask", t.TaskId) }, "Pause"), " ",
            h("button", { type: "button", onclick: () => act("ResumeAutoCalloutTask", t.TaskId) }, "Resume"), " ",
            h("button", { type: "button", class: "danger", onclick: () => act("StopAutoCalloutTask", t.TaskId) }, "Stop")] : "")))));
    if (!(r.Tasks || []).length) list.append(h("p", { class: "muted" }, "No tasks."));
  }
  await load();
}
