// The Objects tab: folders, listing pages, uploads, deletes and one object's details.

import { parseXml, xmlEscape, xmlText } from "./oss.js";
import { state } from "./state.js";
import { $, $$, busy, confirmDialog, debounce, formatBytes, formatDate, h, setError, show, toast } from "./ui.js";

/** Files above this size go up as a multipart upload, in PART_SIZE parts. */
const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
const PART_SIZE = 8 * 1024 * 1024;
const IMAGE_EXT = /\.(jpe?g|png|gif|webp|bmp|tiff?|avif|heic)$/i;

const view = {
  bucket: "",
  /** The folder on screen ("" or ending in "/"). */
  prefix: "",
  /** Continuation tokens of the pages before this one, and of this one. */
  tokens: [],
  token: "",
  next: "",
  /** The key in the details pane. */
  key: "",
  /** Number of the latest listing request (older answers are dropped). */
  seq: 0,
};
let hooks = {};

/** `callbacks.openImage(bucket, key)` opens the image tab. */
export function wire(callbacks) {
  hooks = callbacks;
  $("#search").addEventListener("input", debounce(() => list(true), 300));
  $("#page-size").addEventListener("change", () => list(true));
  $("#next-page").addEventListener("click", () => {
    view.tokens.push(view.token);
    view.token = view.next;
    list(false);
  });
  $("#prev-page").addEventListener("click", () => {
    view.token = view.tokens.pop() || "";
    list(false);
  });
  $("#select-all").addEventListener("change", (e) => {
    $$("#object-rows input.select").forEach((c) => (c.checked = e.target.checked));
    updateSelection();
  });
  $("#delete-selected").addEventListener("click", () => busy($("#delete-selected"), deleteSelected, $("#objects-error")));
  $("#file-input").addEventListener("change", (e) => {
    uploadFiles(Array.from(e.target.files));
    e.target.value = "";
  });
  const zone = $("#dropzone");
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    uploadFiles(Array.from(e.dataTransfer.files));
  });
  $("#new-folder-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy(e.submitter, createFolder, $("#objects-error"));
  });
  $("#close-object").addEventListener("click", closeDetails);
  $("#download-object").addEventListener("click", () => busy($("#download-object"), download, $("#object-error")));
  $("#delete-object").addEventListener("click", () => busy($("#delete-object"), deleteOne, $("#object-error")));
  $("#edit-image").addEventListener("click", () => hooks.openImage(view.bucket, view.key));
  $("#presign-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy(e.submitter, presign, $("#object-error"));
  });
  $("#presign-copy").addEventListener("click", async () => {
    $("#presign-url").select();
    try {
      await navigator.clipboard.writeText($("#presign-url").value);
      toast("Link copied.");
    } catch {
      toast("Select the link and copy it (the clipboard is not available here).");
    }
  });
}

export function open(bucket) {
  view.bucket = bucket;
  $("#search").value = "";
  closeDetails();
  $("#uploads").replaceChildren();
  setError($("#objects-error"), null);
  navigate("");
}

function navigate(prefix) {
  view.prefix = prefix;
  $("#search").value = "";
  renderCrumbs();
  list(true);
}

function renderCrumbs() {
  const parts = view.prefix.split("/").filter(Boolean);
  const crumbs = [h("a", { href: "#", dataset: { prefix: "" }, onclick: crumbClick }, view.bucket)];
  let at = "";
  for (const part of parts) {
    at += part + "/";
    crumbs.push(h("span", { class: "sep" }, "/"), h("a", { href: "#", dataset: { prefix: at }, onclick: crumbClick }, part));
  }
  $("#crumbs").replaceChildren(...crumbs);
  $("#drop-prefix").textContent = view.bucket + "/" + view.prefix;
}

function crumbClick(e) {
  e.preventDefault();
  navigate(e.currentTarget.dataset.prefix);
}

/** List the current page (`restart`: from the first page). */
async function list(restart) {
  if (restart) {
    view.tokens = [];
    view.token = "";
  }
  const bucket = view.bucket;
  const seq = ++view.seq;
  const query = {
    "list-type": "2",
    delimiter: "/",
    prefix: view.prefix + $("#search").value,
    "max-keys": $("#page-size").value,
    "encoding-type": "url",
  };
  if (view.token) query["continuation-token"] = view.token;
  setError($("#objects-error"), null);
  let doc;
  try {
    doc = await state.client.xml("GET", { bucket, query });
  } catch (e) {
    if (seq !== view.seq) return;
    $("#object-rows").replaceChildren();
    setError($("#objects-error"), e);
    return;
  }
  if (seq !== view.seq) return;
  // encoding-type=url: keys and prefixes come percent-encoded.
  const folders = Array.from(doc.getElementsByTagName("CommonPrefixes"), (p) => decodeURIComponent(xmlText(p, "Prefix")));
  const files = Array.from(doc.getElementsByTagName("Contents"), (c) => ({
    key: decodeURIComponent(xmlText(c, "Key")),
    size: xmlText(c, "Size"),
    modified: xmlText(c, "LastModified"),
  })).filter((f) => f.key !== view.prefix);
  const name = (key) => key.slice(view.prefix.length);
  const rows = [
    ...folders.map((p) =>
      h(
        "tr",
        { class: "folder", dataset: { prefix: p } },
        h("td", { class: "check" }),
        h("td", {}, h("a", { href: "#", class: "folder", dataset: { prefix: p }, onclick: crumbClick }, name(p))),
        h("td", { class: "num muted" }, "folder"),
        h("td"),
      ),
    ),
    ...files.map((f) =>
      h(
        "tr",
        { dataset: { key: f.key } },
        h(
          "td",
          { class: "check" },
          h("input", { type: "checkbox", class: "select", "aria-label": "Select " + f.key, dataset: { key: f.key }, onchange: updateSelection }),
        ),
        h(
          "td",
          {},
          h(
            "a",
            {
              href: "#",
              class: "object",
              dataset: { key: f.key },
              onclick: (e) => {
                e.preventDefault();
                showDetails(f.key);
              },
            },
            name(f.key),
          ),
        ),
        h("td", { class: "num" }, formatBytes(f.size)),
        h("td", {}, formatDate(f.modified)),
      ),
    ),
  ];
  $("#object-rows").replaceChildren(...rows);
  $("#select-all").checked = false;
  updateSelection();
  show($("#objects-empty"), !rows.length);
  view.next = xmlText(doc, "IsTruncated") === "true" ? xmlText(doc, "NextContinuationToken") : "";
  $("#next-page").disabled = !view.next;
  $("#prev-page").disabled = !view.tokens.length;
  $("#page-info").textContent = "page " + (view.tokens.length + 1);
}

function selectedKeys() {
  return $$("#object-rows input.select:checked").map((c) => c.dataset.key);
}

function updateSelection() {
  const n = selectedKeys().length;
  $("#delete-selected").disabled = !n;
  $("#delete-selected").textContent = n ? "Delete selected (" + n + ")" : "Delete selected";
}

/** DeleteMultipleObjects in batches of 1000; throws the first error. */
export async function deleteKeys(bucket, keys) {
  for (let i = 0; i < keys.length; i += 1000) {
    const body =
      "<Delete><Quiet>true</Quiet>" +
      keys
        .slice(i, i + 1000)
        .map((k) => "<Object><Key>" + xmlEscape(k) + "</Key></Object>")
        .join("") +
      "</Delete>";
    const r = await state.client.sendXml("POST", { bucket, query: { delete: "" } }, body, true);
    const text = await r.text();
    if (text.includes("<Error>")) {
      const err = parseXml(text).getElementsByTagName("Error")[0];
      throw new Error(xmlText(err, "Code") + ": " + xmlText(err, "Message") + " (" + xmlText(err, "Key") + ")");
    }
  }
}

async function deleteSelected() {
  const keys = selectedKeys();
  if (!keys.length) return;
  const what = keys.length === 1 ? keys[0] : keys.length + " objects";
  if (!(await confirmDialog("Delete " + what + "?"))) return;
  await deleteKeys(view.bucket, keys);
  toast("Deleted " + what + ".");
  if (keys.includes(view.key)) closeDetails();
  await list(true);
}

async function createFolder() {
  const name = $("#new-folder-name").value.trim().replace(/^\/+|\/+$/g, "");
  if (!name) return;
  await state.client.request("PUT", {
    bucket: view.bucket,
    key: view.prefix + name + "/",
    headers: { "content-type": "application/x-directory" },
    body: new Blob([]),
  });
  $("#new-folder-name").value = "";
  navigate(view.prefix + name + "/");
}

// ---------------------------------------------------------------------------
// uploads

async function uploadFiles(files) {
  const bucket = view.bucket;
  const prefix = view.prefix;
  for (const file of files) {
    const key = prefix + file.name;
    const bar = h("progress", { max: String(file.size || 1), value: "0" });
    const status = h("span", { class: "muted" }, "waiting");
    const controller = new AbortController();
    const cancel = h("button", { type: "button", class: "secondary small", onclick: () => controller.abort() }, "Cancel");
    const item = h("li", { dataset: { key } }, h("span", { class: "name" }, key), bar, status, cancel);
    $("#uploads").append(item);
    const progress = (loaded) => {
      bar.value = loaded;
      status.textContent = formatBytes(loaded) + " of " + formatBytes(file.size);
    };
    try {
      const multipart = file.size > MULTIPART_THRESHOLD;
      const signal = controller.signal;
      if (multipart) await uploadMultipart(bucket, key, file, progress, signal);
      else {
        const headers = { "content-type": contentType(file) };
        await state.client.upload("PUT", { bucket, key, headers, body: file, onProgress: progress, signal });
      }
      bar.value = bar.max;
      status.textContent = "done (" + formatBytes(file.size) + (multipart ? ", multipart" : "") + ")";
      item.classList.add("done");
    } catch (e) {
      status.textContent = String(e);
      item.classList.add("failed");
    }
    cancel.remove();
  }
  if (bucket === view.bucket && prefix === view.prefix) await list(true);
}

function contentType(file) {
  return file.type || "application/octet-stream";
}

/** InitiateMultipartUpload, UploadPart in PART_SIZE slices, CompleteMultipartUpload (Abort on failure or cancel). */
async function uploadMultipart(bucket, key, file, onProgress, signal) {
  const client = state.client;
  const init = await client.xml("POST", {
    bucket,
    key,
    query: { uploads: "" },
    headers: { "content-type": contentType(file) },
  });
  const uploadId = xmlText(init, "UploadId");
  const parts = [];
  try {
    for (let n = 1, offset = 0; offset < file.size; n++, offset += PART_SIZE) {
      const slice = file.slice(offset, Math.min(offset + PART_SIZE, file.size));
      const xhr = await client.upload("PUT", {
        bucket,
        key,
        query: { partNumber: String(n), uploadId },
        headers: { "content-type": "application/octet-stream" },
        body: slice,
        onProgress: (loaded) => onProgress(offset + loaded),
        signal,
      });
      parts.push("<Part><PartNumber>" + n + "</PartNumber><ETag>" + xmlEscape(xhr.getResponseHeader("ETag")) + "</ETag></Part>");
    }
    await client.sendXml(
      "POST",
      { bucket, key, query: { uploadId } },
      "<CompleteMultipartUpload>" + parts.join("") + "</CompleteMultipartUpload>",
    );
  } catch (e) {
    await client.request("DELETE", { bucket, key, query: { uploadId } }).catch(() => {});
    throw e;
  }
}

// ---------------------------------------------------------------------------
// one object

function closeDetails() {
  view.key = "";
  show($("#object-pane"), false);
}

async function showDetails(key) {
  view.key = key;
  const bucket = view.bucket;
  $("#object-title").textContent = key;
  show($("#object-pane"));
  show($("#presign-out"), false);
  setError($("#object-error"), null);
  $("#object-meta").replaceChildren();
  $("#object-tags").replaceChildren();
  show($("#edit-image"), IMAGE_EXT.test(key));
  try {
    const head = await state.client.request("HEAD", { bucket, key });
    if (view.key !== key) return;
    const rows = [];
    head.headers.forEach((value, name) => {
      if (name !== "x-oss-request-id" && name !== "date" && name !== "server") rows.push([name, value]);
    });
    $("#object-meta").replaceChildren(...rows.map(([n, v]) => h("tr", {}, h("th", {}, n), h("td", {}, v))));
    if ((head.headers.get("content-type") || "").startsWith("image/")) show($("#edit-image"));
    const tags = await state.client.xml("GET", { bucket, key, query: { tagging: "" } });
    if (view.key !== key) return;
    const tagRows = Array.from(tags.getElementsByTagName("Tag"), (t) =>
      h("tr", {}, h("th", {}, xmlText(t, "Key")), h("td", {}, xmlText(t, "Value"))),
    );
    $("#object-tags").replaceChildren(...(tagRows.length ? tagRows : [h("tr", {}, h("td", { class: "muted" }, "No tags."))]));
  } catch (e) {
    setError($("#object-error"), e);
  }
}

async function presign() {
  const url = await state.client.presign("GET", view.bucket, view.key, Number($("#presign-expiry").value));
  $("#presign-url").value = url;
  show($("#presign-out"));
  $("#presign-url").select();
}

async function download() {
  const name = view.key.split("/").pop() || "download";
  const disposition = "attachment; filename*=UTF-8''" + encodeURIComponent(name);
  const url = await state.client.presign("GET", view.bucket, view.key, 300, { "response-content-disposition": disposition });
  h("a", { href: url, download: name }).click();
}

async function deleteOne() {
  const key = view.key;
  if (!(await confirmDialog("Delete " + key + "?"))) return;
  await state.client.request("DELETE", { bucket: view.bucket, key });
  toast("Deleted " + key + ".");
  closeDetails();
  await list(true);
}
