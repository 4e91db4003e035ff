// users: the instance's console users, for administrators — list them
// (CccdDescribeConsoleUsers), create one (CccdCreateConsoleUser), change a role or reset a
// password (CccdModifyConsoleUser: a new password signs the user out) and delete one
// (CccdDeleteConsoleUser). The server audits each change and refuses other roles; the
// page is not in their navigation. Administrators cannot demote or delete themselves here
// (an API client still can), so that the console is never left without one by a slip.
import { call, session } from "./api.js";
import { h, table, when, errorBox } from "./dom.js";

const ROLES = ["administrator", "supervisor", "viewer"];
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 128;

function roleSelect(name, value) {
  return h("select", { name }, ROLES.map((r) => h("option", { value: r, selected: r === value }, r)));
}

// The password rules of CccdCreateConsoleUser, said before the server says them.
function passwordProblem(pw, optional) {
  if (!pw) return optional ? "" : "Give a password.";
  const bytes = new TextEncoder().encode(pw).length;
  if (bytes < PASSWORD_MIN || bytes > PASSWORD_MAX)
    return `A password is ${PASSWORD_MIN} to ${PASSWORD_MAX} bytes long.`;
  return "";
}

export default async function users(root) {
  const msg = h("p", { id: "users-message", role: "status" });
  const list = h("div", { id: "users" });
  const create = h("form", { class: "inline", id: "user-create" },
    h("label", {}, "User name", h("input", { name: "user", required: true, maxlength: 64,
      pattern: "[A-Za-z0-9._@\\-]{1,64}", autocomplete: "off" })),
    h("label", {}, "Role", roleSelect("role", "viewer")),
    h("label", {}, `Password (${PASSWORD_MIN}–${PASSWORD_MAX}; none: sign-in links only)`,
      h("input", { name: "password", type: "password", autocomplete: "new-password" })),
    h("button", { type: "submit" }, "Create user"));
  root.append(h("h1", {}, "Console users"), msg, list, h("h2", {}, "New user"), create);

  function say(text) { msg.replaceChildren(text); }
  function failed(e) { msg.replaceChildren(errorBox(e)); }

  async function change(action, params, done) {
    try {
      await call(action, params);
      await load();
      say(done);
    } catch (e) {
      failed(e);
    }
  }

  function row(u) {
    const self = u.UserName === session.user;
    const role = roleSelect("role", u.Role);
    const pw = h("input", { type: "password", name: "password", placeholder: "new password",
      autocomplete: "new-password" });
    role.disabled = self;
    return h("tr", { class: "user", "data-user": u.UserName },
      h("td", {}, u.UserName), h("td", {}, role),
      h("td", {}, u.HasPassword ? "yes" : "links only"), h("td", {}, when(u.CreatedTimestamp)),
      h("td", {},
        self ? h("span", { class: "muted" }, "you") : h("button", { type: "button", class: "set-role",
          onclick: () => change("CccdModifyConsoleUser", { UserName: u.UserName, Role: role.value },
            `${u.UserName} is now ${role.value}.`) }, "Change role"), " ",
        pw, h("button", { type: "button", class: "reset-password", onclick: () => {
          const why = passwordProblem(pw.value, false);
          if (why) return say(why);
          return change("CccdModifyConsoleUser", { UserName: u.UserName, Password: pw.value },
            `${u.UserName}'s password is reset; their sessions have ended.`);
        } }, "Reset password"), " ",
        self ? "" : h("button", { type: "button", class: "danger delete", onclick: () =>
          change("CccdDeleteConsoleUser", { UserName: u.UserName }, `${u.UserName} is deleted.`) },
        "Delete")));
  }

  async function load() {
    const r = await call("CccdDescribeConsoleUsers", {});
    list.replaceChildren(table(["User", "Role", "Password", "Created (UTC)", ""],
      (r.Users || []).map(row)));
  }

  create.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const why = passwordProblem(create.password.value, true);
    if (why) return say(why);
    const q = { UserName: create.user.value.trim(), Role: create.role.value };
    if (create.password.value) q.Password = create.password.value;
    await change("CccdCreateConsoleUser", q, `${q.UserName} is created (${q.Role}).`);
    if (!msg.querySelector(".error")) create.reset();
  });
  await load();
}
