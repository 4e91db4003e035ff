// app: the console's shell — sign-in (password, or the one-time link in the URL's
// fragment), the navigation between pages, and the page in view.
import { session, signIn, signInByLink, signOut, whoAmI, can } from "./api.js";
import { h, errorBox } from "./dom.js";
import calls from "./calls.js";
import records from "./records.js";
import flows from "./flows.js";
import rules from "./rules.js";
import numbers from "./numbers.js";
import tasks from "./tasks.js";
import audit from "./audit.js";
import users from "./users.js";

const allPages = { calls, records, flows, rules, numbers, tasks, audit, users };
let pages = allPages;
const main = document.getElementById("main");
let leave = null; // the page in view's clean-up (timers)

function signInPage(message) {
  document.getElementById("top").hidden = true;
  const err = h("p", { class: "error", id: "signin-error" }, message || "");
  const form = h("form", { class: "signin", id: "signin" },
    h("h1", {}, "Sign in to the cccd console"),
    h("label", {}, "SdkAppId", h("input", { name: "sdkappid", inputmode: "numeric", required: true })),
    h("label", {}, "User name", h("input", { name: "user", autocomplete: "username", required: true })),
    h("label", {}, "Password", h("input", { name: "password", type: "password",
      autocomplete: "current-password", required: true })),
    h("button", { type: "submit" }, "Sign in"), err);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await signIn(Number(form.sdkappid.value), form.user.value, form.password.value);
      location.hash = "#calls";
      start();
    } catch (e) {
      err.textContent = e.message;
    }
  });
  main.replaceChildren(form);
}

function nav() {
  const top = document.getElementById("top");
  top.hidden = false;
  document.getElementById("who").textContent =
    `${session.user} (${session.role}) · SdkAppId ${session.sdkappid}`;
  const names = { calls: "Live calls", records: "Call records", flows: "IVR flows",
    rules: "Calling rules", numbers: "Numbers & audio", tasks: "Tasks", audit: "Audit log",
    users: "Users" };
  // The Users page is an administrator's: absent for the others (the server refuses them).
  if (!can("CccdCreateConsoleUser")) delete names.users;
  pages = Object.fromEntries(Object.entries(allPages).filter(([k]) => k in names));
  document.getElementById("nav").replaceChildren(...Object.entries(names).map(([k, v]) =>
    h("a", { href: `#${k}`, id: `nav-${k}` }, v)));
}

async function show() {
  if (leave) leave();
  leave = null;
  const [name, arg] = location.hash.slice(1).split("/");
  const page = pages[name] || pages.calls;
  for (const a of document.querySelectorAll("#nav a"))
    a.classList.toggle("active", a.id === `nav-${name in pages ? name : "calls"}`);
  const root = h("section", { id: `page-${name in pages ? name : "calls"}` });
  main.replaceChildren(root);
  try {
    leave = await page(root, arg ? decodeURIComponent(arg) : "");
  } catch (e) {
    if (e.status === 401) return signInPage("Your session has ended: sign in again.");
    root.append(errorBox(e));
  }
}

async function start() {
  nav();
  window.onhashchange = show;
  await show();
}

document.getElementById("signout").addEventListener("click", async () => {
  try { await signOut(); } finally { location.hash = ""; signInPage("Signed out."); }
});

(async () => {
  const m = /^#login=([0-9a-f]{64})$/.exec(location.hash);
  if (m) {
    // The link's token leaves the address bar (and the history) before anything else.
    history.replaceState(null, "", "/console/");
    try {
      await signInByLink(m[1]);
      location.hash = "#calls";
      return start();
    } catch (e) {
      return signInPage(e.message);
    }
  }
  if (await whoAmI()) return start();
  signInPage();
})();
