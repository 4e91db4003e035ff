// numbers: the instance's numbers (CccdDescribeNumbers) and uploaded audio files
// (DescribeIvrAudioList). Administrators bind a number to an inbound IVR, enable or
// disable it and say whether it may be a caller id (CccdModifyNumber); upload an audio
// file from their computer (UploadIvrAudio with cccd's CccdAudioData: the file's bytes, as
// a browser holds no URL the server could fetch); and delete a file no current flow plays
// (CccdDeleteIvrAudio).
import { call, can } from "./api.js";
import { h, table, errorBox } from "./dom.js";

// The request body is at most 1 MB and base64 makes 4 bytes of 3.
const UPLOAD_MAX = 750 * 1024;

const triState = (name) => h("select", { name }, h("option", { value: "" }, "unchanged"),
  h("option", { value: "true" }, "yes"), h("option", { value: "false" }, "no"));

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ""));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

function numberForm(list, done) {
  const msg = h("p", { id: "number-result", role: "status" });
  const form = h("form", { class: "inline", id: "number-modify" },
    h("label", {}, "Number", h("select", { name: "number" },
      list.map((n) => h("option", { value: n.Number }, n.Number)))),
    h("label", {}, "Inbound IVR id (0: none; empty: unchanged)", h("input", { name: "ivr", inputmode: "numeric" })),
    h("label", {}, "Enabled", triState("enabled")),
    h("label", {}, "Caller id for outbound calls", triState("outbound")),
    h("button", { type: "submit" }, "Save"), msg);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = { Number: form.number.value };
    if (form.ivr.value.trim()) q.InboundIVRId = Number(form.ivr.value);
    if (form.enabled.value) q.Enabled = form.enabled.value === "true";
    if (form.outbound.value) q.Outbound = form.outbound.value === "true";
    try {
      await call("CccdModifyNumber", q);
      await done();
      msg.replaceChildren(`${q.Number} is saved.`);
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    }
  });
  return form;
}

function uploadForm(done) {
  const msg = h("p", { id: "audio-upload-result", role: "status" });
  const form = h("form", { class: "inline", id: "audio-upload" },
    h("label", {}, "Name in flows", h("input", { name: "name", required: true, maxlength: 255 })),
    h("label", {}, "WAV or MP3 file (750 KB at most)", h("input", { type: "file", name: "file",
      accept: ".wav,.mp3,audio/wav,audio/mpeg", required: true })),
    h("button", { type: "submit" }, "Upload"), msg);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = form.file.files[0];
    if (!file) return;
    if (file.size > UPLOAD_MAX)
      return msg.replaceChildren(`${file.name} is larger than 750 KB: upload it by URL (UploadIvrAudio).`);
    try {
      const r = await call("UploadIvrAudio", { AudioList: [{ CustomFileName: form.name.value,
        CccdAudioData: await base64Of(file), CccdFileName: file.name }] });
      const bad = (r.FailedFileList || [])[0];
      msg.replaceChildren(bad ? h("span", { class: "error" }, `${bad.FileName}: ${bad.FailedMsg}`) :
        `${form.name.value} is uploaded (FileId ${r.SuccessFileList[0].FileId}).`);
      if (!bad) form.reset();
      await done();
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    }
  });
  return form;
}

export default async function numbers(root) {
  const numbersBox = h("div", { id: "numbers" });
  root.append(h("h1", {}, "Numbers"), numbersBox);
  let list = [];
  async function loadNumbers() {
    const n = await call("CccdDescribeNumbers", {});
    list = n.Numbers || [];
    const keys = list.length ? Object.keys(list[0]) : ["Number"];
    numbersBox.replaceChildren(table(keys, list.map((x) => h("tr", { "data-number": x.Number },
      keys.map((k) => h("td", {}, typeof x[k] === "object" ? JSON.stringify(x[k]) : String(x[k])))))));
  }
  await loadNumbers();
  if (can("CccdModifyNumber") && list.length)
    root.append(h("h2", {}, "Change a number"), numberForm(list, loadNumbers));

  const audio = h("div", { id: "audio" });
  root.append(h("h2", {}, "Audio files"), audio);
  async function load() {
    const a = await call("DescribeIvrAudioList", { PageSize: 50, PageNumber: 0 });
    audio.replaceChildren(table(["FileId", "Name", "File", "Status", ""], (a.FileInfo || []).map((f) =>
      h("tr", { class: "audio-file", "data-name": f.CustomFileName }, h("td", {}, f.FileId),
        h("td", {}, f.CustomFileName), h("td", {}, f.AudioFileName),
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
  if (can("UploadIvrAudio")) root.append(h("h3", {}, "Upload an audio file"), uploadForm(load));
}
