// api: the console's one way to the server — POST /console/api/<Action> with the session
// cookie (sent by the browser) and the CSRF token in X-CSRF-Token, as docs/console.md says.

export const session = { user: null, role: null, sdkappid: 0, csrf: "" };

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function post(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (session.csrf) headers["X-CSRF-Token"] = session.csrf;
  const r = await fetch(path, { method: "POST", headers, body: JSON.stringify(body || {}),
    credentials: "same-origin" });
  const j = await r.json();
  if (j.Error) throw new ApiError(j.Error.Code, j.Error.Message, r.status);
  if (j.Response && j.Response.Error)
    throw new ApiError(j.Response.Error.Code, j.Response.Error.Message, r.status);
  return j.Response || j;
}

function remember(who) {
  session.user = who.UserName;
  session.role = who.Role;
  session.sdkappid = who.SdkAppId;
  session.csrf = who.CsrfToken;
  return who;
}

export async function signIn(sdkappid, user, password) {
  return remember(await post("/console/api/login", { SdkAppId: sdkappid, UserName: user,
    Password: password }));
}

export async function signInByLink(token) {
  return remember(await post("/console/api/link", { Token: token }));
}

// The session of the cookie, if any (after a reload): null when signed out.
export async function whoAmI() {
  const r = await fetch("/console/api/me", { credentials: "same-origin" });
  if (r.status !== 200) return null;
  return remember(await r.json());
}

export async function signOut() {
  await post("/console/api/logout", {});
  session.csrf = "";
  session.user = null;
}

export function call(action, params) {
  return post(`/console/api/${action}`, params);
}

// What the role may run: the server decides; this only hides the buttons it would refuse.
export function can(action) {
  if (session.role === "administrator") return true;
  const reads = (action.startsWith("Describe") || action.startsWith("CccdDescribe")) &&
    action !== "CccdDescribeConsoleUsers";
  if (session.role === "supervisor") return reads || action === "HangUpCall";
  return session.role === "viewer" && reads;
}
