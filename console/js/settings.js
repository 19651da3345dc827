// The Settings tab: bucket info and statistics, the ACL, and text editors for the
// CORS rules, lifecycle rules and bucket policy (the server checks what is sent).

import { md5Base64 } from "./crypto.js";
import { xmlText } from "./oss.js";
import { state } from "./state.js";
import { $, busy, confirmDialog, formatBytes, formatDate, h, setError, toast } from "./ui.js";

const EDITORS = [
  {
    sub: "cors",
    title: "CORS rules",
    missing: "NoSuchCORSConfiguration",
    type: "application/xml",
    example:
      "<CORSConfiguration>\n  <CORSRule>\n    <AllowedOrigin>https://example.com</AllowedOrigin>\n" +
      "    <AllowedMethod>GET</AllowedMethod>\n    <AllowedHeader>*</AllowedHeader>\n" +
      "    <MaxAgeSeconds>600</MaxAgeSeconds>\n  </CORSRule>\n</CORSConfiguration>",
  },
  {
    sub: "lifecycle",
    title: "Lifecycle rules",
    missing: "NoSuchLifecycle",
    type: "application/xml",
    example:
      "<LifecycleConfiguration>\n  <Rule>\n    <ID>expire-tmp</ID>\n    <Prefix>tmp/</Prefix>\n" +
      "    <Status>Enabled</Status>\n    <Expiration><Days>7</Days></Expiration>\n  </Rule>\n</LifecycleConfiguration>",
  },
  {
    sub: "policy",
    title: "Bucket policy",
    missing: "NoSuchBucketPolicy",
    type: "application/json",
    example: (bucket) =>
      JSON.stringify(
        {
          Version: "1",
          Statement: [
            {
              Effect: "Allow",
              Principal: ["*"],
              Action: ["oss:GetObject"],
              Resource: ["acs:oss:*:*:" + bucket + "/public/*"],
            },
          ],
        },
        null,
        2,
      ),
  },
];

let bucket = "";

export function wire() {
  $("#acl-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy(e.submitter, saveAcl, $("#acl-error"));
  });
  $("#config-editors").replaceChildren(...EDITORS.map(editor));
}

/** The section of one editor; keeps its textarea, status and error elements on `def`. */
function editor(def) {
  const id = "config-" + def.sub;
  const text = h("textarea", { id, class: "code", rows: "10", spellcheck: "false", "aria-label": def.title });
  const status = h("span", { class: "muted", id: id + "-state" });
  const error = h("p", { class: "error", id: id + "-error", hidden: true });
  const run = (button, work) => busy(button, work, error);
  def.text = text;
  def.status = status;
  def.error = error;
  return h(
    "section",
    { class: "config" },
    h("h3", {}, def.title, " ", status),
    text,
    h(
      "div",
      { class: "toolbar" },
      h("button", { type: "button", id: id + "-save", onclick: (e) => run(e.currentTarget, () => saveConfig(def)) }, "Save"),
      h("button", { type: "button", class: "secondary", onclick: (e) => run(e.currentTarget, () => loadConfig(def)) }, "Reload"),
      h(
        "button",
        { type: "button", class: "secondary", onclick: () => (text.value = exampleOf(def)) },
        "Insert example",
      ),
      h("button", { type: "button", class: "danger", id: id + "-delete", onclick: (e) => run(e.currentTarget, () => deleteConfig(def)) }, "Delete"),
    ),
    error,
  );
}

function exampleOf(def) {
  return typeof def.example === "function" ? def.example(bucket) : def.example;
}

export async function open(name) {
  bucket = name;
  for (const def of EDITORS) {
    def.text.value = "";
    setError(def.error, null);
  }
  await Promise.all([loadInfo(), ...EDITORS.map((def) => busy(null, () => loadConfig(def), def.error))]);
}

async function loadInfo() {
  setError($("#info-error"), null);
  setError($("#acl-error"), null);
  try {
    const [info, stat] = await Promise.all([
      state.client.xml("GET", { bucket, query: { bucketInfo: "" } }),
      state.client.xml("GET", { bucket, query: { stat: "" } }),
    ]);
    const rows = [
      ["Name", xmlText(info, "Name")],
      ["Region", xmlText(info, "Location")],
      ["Created", formatDate(xmlText(info, "CreationDate"))],
      ["Storage class", xmlText(info, "StorageClass")],
      ["Objects", xmlText(stat, "ObjectCount")],
      ["Stored", formatBytes(xmlText(stat, "Storage") || 0)],
      ["Unfinished multipart uploads", xmlText(stat, "MultipartUploadCount")],
    ];
    $("#bucket-info").replaceChildren(...rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v))));
    $("#bucket-acl").value = xmlText(info, "Grant");
  } catch (e) {
    setError($("#info-error"), e);
  }
}

async function saveAcl() {
  await state.client.request("PUT", { bucket, query: { acl: "" }, headers: { "x-oss-acl": $("#bucket-acl").value } });
  toast("The bucket ACL is now " + $("#bucket-acl").value + ".");
}

async function loadConfig(def) {
  const name = bucket;
  try {
    const r = await state.client.request("GET", { bucket, query: { [def.sub]: "" } });
    const text = await r.text();
    if (name !== bucket) return;
    def.text.value = def.type === "application/json" ? pretty(text) : text;
    def.status.textContent = "(set)";
  } catch (e) {
    if (e.code !== def.missing) throw e;
    if (name !== bucket) return;
    def.text.value = "";
    def.status.textContent = "(none: the editor is empty; Insert example gives a starting point)";
  }
}

function pretty(json) {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

async function saveConfig(def) {
  const body = def.text.value;
  await state.client.request("PUT", {
    bucket,
    query: { [def.sub]: "" },
    headers: { "content-type": def.type, "content-md5": md5Base64(body) },
    body,
  });
  toast("Saved the " + def.title.toLowerCase() + ".");
  await loadConfig(def);
}

async function deleteConfig(def) {
  if (!(await confirmDialog("Delete the " + def.title.toLowerCase() + " of " + bucket + "?"))) return;
  await state.client.request("DELETE", { bucket, query: { [def.sub]: "" } });
  toast("Deleted the " + def.title.toLowerCase() + ".");
  await loadConfig(def);
}
