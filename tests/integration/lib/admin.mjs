// The cccd admin API through the official SDK's common request path (client.request),
// as any tccli-style caller would use it: adminClient(creds, endpoint)(Action, params)
// resolves to the Response fields, or on error to {err, message}.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tencentcloud = require("tencentcloud-sdk-nodejs-intl-en");

export function adminClient(creds, endpoint) {
  const c = new tencentcloud.ccc.v20200210.Client(
    new tencentcloud.common.Credential(creds.TENCENTCLOUD_SECRET_ID, creds.TENCENTCLOUD_SECRET_KEY),
    "", { signMethod: "TC3-HMAC-SHA256", httpProfile: { protocol: "http://", endpoint, reqMethod: "POST", reqTimeout: 30 } });
  return (action, params = {}) => new Promise((resolve) => {
    const resp = { deserialize(d) { this.data = d; } };
    c.request(action, params, resp, (err, r) => resolve(err ? { err: err.code, message: err.message } : r.data));
  });
}

// A flow document (object) as the Flow parameter's string.
export const flowText = (f) => JSON.stringify(f);
