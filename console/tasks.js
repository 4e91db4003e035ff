// tasks: auto-callout tasks and their progress (DescribeAutoCalloutTasks,
// DescribeAutoCalloutTask); administrators create one (CreateAutoCalloutTask: its IVR,
// callers, callees, when it may start and end, the hours of the day it calls) and pause,
// resume or stop one.
import { call, can } from "./api.js";
import { h, table, when, errorBox } from "./dom.js";

// docs/tasks.md §States.
const STATES = { 0: "created", 1: "running", 2: "completed", 3: "ending", 4: "stopped", 5: "paused" };
const CALLEE = { 0: "initial", 1: "answered", 2: "not answered", 3: "calling", 4: "waiting to retry" };

function localInput(unix) {
  const d = new Date(unix * 1000);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

const unixOf = (v) => Math.floor(new Date(v).getTime() / 1000);
const lines = (text) => text.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);

function createForm(done) {
  const now = Math.floor(Date.now() / 1000);
  const msg = h("p", { id: "task-create-result", role: "status" });
  const form = h("form", { id: "task-create" },
    h("div", { class: "inline" },
      h("label", {}, "Name", h("input", { name: "name", maxlength: 60 })),
      h("label", {}, "IVR id", h("input", { name: "ivr", inputmode: "numeric", required: true })),
      h("label", {}, "Callers (numbers of the instance)", h("input", { name: "callers", required: true })),
      h("label", {}, "Not before", h("input", { type: "datetime-local", name: "from", value: localInput(now) })),
      h("label", {}, "Not after (optional)", h("input", { type: "datetime-local", name: "to" })),
      h("label", {}, "Calls from (optional)", h("input", { type: "time", name: "start", step: 1 })),
      h("label", {}, "until", h("input", { type: "time", name: "end", step: 1 }))),
    h("label", {}, "Callees (one a line)", h("textarea", { name: "callees", required: true, rows: 4 })),
    h("button", { type: "submit" }, "Create task"), msg);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = { Name: form.name.value, IvrId: Number(form.ivr.value), Callers: lines(form.callers.value),
      Callees: lines(form.callees.value), NotBefore: unixOf(form.from.value) };
    if (form.to.value) q.NotAfter = unixOf(form.to.value);
    if (form.start.value || form.end.value) {
      const clock = (v) => (v.length === 5 ? `${v}:00` : v);
      q.AvailableTime = [{ StartTime: clock(form.start.value), EndTime: clock(form.end.value) }];
    }
    try {
      const r = await call("CreateAutoCalloutTask", q);
      await done(r.TaskId);
      msg.replaceChildren(`Task ${r.TaskId} is created.`);
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    }
  });
  return form;
}

export default async function tasks(root) {
  const list = h("div", { id: "tasks" });
  const detail = h("div", { id: "task-detail" });
  root.append(h("h1", {}, "Auto-callout tasks"), list, detail);
  if (can("CreateAutoCalloutTask"))
    root.append(h("h2", {}, "New task"), createForm(async (id) => { await load(); await show(id); }));
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
            h("button", { type: "button", class: "resume", onclick: () => act("ResumeAutoCalloutTask", t.TaskId) }, "Resume"), " ",
            h("button", { type: "button", class: "danger stop", onclick: () => act("StopAutoCalloutTask", t.TaskId) }, "Stop")] : "")))));
    if (!(r.Tasks || []).length) list.append(h("p", { class: "muted" }, "No tasks."));
  }
  await load();
}
