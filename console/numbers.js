// numbers: the instance's numbers (CccdDescribeNumbers) and uploaded audio files
// (DescribeIvrAudioList); administrators delete a file no current flow plays
// (CccdDeleteIvrAudio).
import { call, can } from "./api.js";
import { h, table, errorBox } from "./dom.js";

export default async function numbers(root) {
  const n = await call("CccdDescribeNumbers", {});
  const list = n.Numbers || [];
  const keys = list.length ? Object.keys(list[0]) : ["Number"];
  root.append(h("h1", {}, "Numbers"),
    table(keys, list.map((x) => h("tr", {}, keys.map((k) => h("td", {},
      typeof x[k] === "object" ? JSON.stringify(x[k]) : String(x[k])))))));

  const audio = h("div", { id: "audio" });
  root.append(h("h2", {}, "Audio files"), audio);
  async function load() {
    const a = await call("DescribeIvrAudioList", { PageSize: 100, PageNumber: 0 });
    audio.replaceChildren(table(["FileId", "Name", "File", "Status", ""], (a.FileInfo || []).map((f) =>
      h("tr", {}, h("td", {}, f.FileId), h("td", {}, f.CustomFileName), h("td", {}, f.AudioFileName),
        h("td", {}, f.Status), h("td", {}, can("CccdDeleteIvrAudio") ? h("button", { type: "button",
          class: "danger", onclick: async () => {
            try {
              await call("CccdDeleteIvrAudio", { FileId: f.FileId });
              await load();
            } catch (e) {
              audio.prepend(errorBox(e));
            }
          } }, "Delete") : "")))));
  }
  await load();
}
