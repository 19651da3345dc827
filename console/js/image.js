// The Image tab: an x-oss-process editor whose every change is sent to the server,
// so the result and any error message are the server's own; styles and sys/saveas.

import { base64Url } from "./crypto.js";
import { xmlEscape } from "./oss.js";
import { state } from "./state.js";
import { $, busy, debounce, formatBytes, h, setError, show, toast } from "./ui.js";

/** Actions of `image/...` (see the image processing reference), as insertable examples. */
const HINTS = [
  ["resize", "resize,w_200", "Scale to 200 px wide (m_lfit, m_mfit, m_fill, m_pad, m_fixed; w, h, l, s, p, limit)"],
  ["resize fill", "resize,m_fill,w_200,h_200", "Fill a 200 x 200 box, cropping the overflow"],
  ["crop", "crop,w_200,h_200,g_center", "Crop 200 x 200 around the centre (x, y, g_nw ... g_se)"],
  ["indexcrop", "indexcrop,x_100,i_0", "Cut into 100 px wide strips, keep the first"],
  ["circle", "circle,r_100", "Circular crop of radius 100"],
  ["rounded-corners", "rounded-corners,r_30", "Round the corners"],
  ["rotate", "rotate,90", "Rotate clockwise by 0-360 degrees"],
  ["flip", "flip,1", "Flip (0 vertical, 1 horizontal, 2 both)"],
  ["auto-orient", "auto-orient,1", "Rotate as the EXIF orientation says"],
  ["blur", "blur,r_3,s_2", "Gaussian blur: radius and standard deviation 1-50"],
  ["bright", "bright,20", "Brightness -100 to 100"],
  ["contrast", "contrast,20", "Contrast -100 to 100"],
  ["sharpen", "sharpen,100", "Sharpen 50-399"],
  ["watermark", "watermark,text_" + base64Url("ossify") + ",color_FFFFFF,size_40,g_se", "Text watermark (text in URL-safe base64)"],
  ["format", "format,webp", "Output format: jpg, png, webp, gif, bmp, avif ..."],
  ["quality", "quality,q_80", "Relative quality (q_) or absolute (Q_) 1-100"],
  ["interlace", "interlace,1", "Progressive JPEG / interlaced PNG"],
  ["info", "info", "Image information as JSON"],
  ["average-hue", "average-hue", "Average colour as JSON"],
];

const view = { bucket: "", key: "", seq: 0, resultUrl: "", originalUrl: "" };

export function wire() {
  const spec = $("#spec");
  const later = debounce(process, 400);
  spec.addEventListener("input", later);
  spec.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      process();
    }
  });
  $("#hints").replaceChildren(
    ...HINTS.map(([label, snippet, title]) =>
      h("button", { type: "button", class: "hint-chip", title: title + ": " + snippet, onclick: () => addAction(snippet) }, label),
    ),
  );
  $("#result-img").addEventListener("load", (e) => {
    $("#result-dims").textContent = e.target.naturalWidth + " x " + e.target.naturalHeight + " px";
  });
  $("#orig-img").addEventListener("load", (e) => {
    $("#orig-stats").dataset.dims = e.target.naturalWidth + " x " + e.target.naturalHeight + " px";
    $("#orig-stats").textContent = $("#orig-stats").dataset.dims + ", " + $("#orig-stats").dataset.size;
  });
  $("#save-style-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy(e.submitter, saveStyle, $("#save-style-error"));
  });
  $("#saveas-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy(e.submitter, saveAs, $("#saveas-error"));
  });
}

export function setBuckets(names) {
  const select = $("#saveas-bucket");
  const current = select.value || state.bucket;
  select.replaceChildren(...names.map((n) => h("option", { value: n, selected: n === current }, n)));
  if (current && !names.includes(current)) select.append(h("option", { value: current, selected: true }, current));
}

export async function open(bucket, key) {
  view.bucket = bucket;
  view.key = key;
  $("#image-title").textContent = bucket + "/" + key;
  setBuckets(state.buckets);
  $("#saveas-bucket").value = bucket;
  const dot = key.lastIndexOf(".");
  $("#saveas-key").value = dot > key.lastIndexOf("/") ? key.slice(0, dot) + "-processed" + key.slice(dot) : key + "-processed";
  show($("#saveas-result"), false);
  $("#orig-stats").textContent = "";
  $("#orig-img").removeAttribute("src");
  URL.revokeObjectURL(view.originalUrl);
  process();
  try {
    const blob = await (await state.client.request("GET", { bucket, key })).blob();
    if (view.key !== key) return;
    view.originalUrl = URL.createObjectURL(blob);
    $("#orig-stats").dataset.size = formatBytes(blob.size);
    $("#orig-img").src = view.originalUrl;
  } catch (e) {
    $("#orig-stats").textContent = String(e);
  }
}

function currentSpec() {
  return $("#spec").value.trim();
}

function addAction(snippet) {
  const spec = currentSpec();
  $("#spec").value = spec.startsWith("image/") ? spec + "/" + snippet : "image/" + snippet;
  $("#spec").focus();
  process();
}

function clearResult() {
  $("#result-dims").textContent = "";
  $("#result-size").textContent = "";
  $("#result-time").textContent = "";
  show($("#result-img"), false);
  show($("#result-json"), false);
}

/** Ask the server for the processed image; show it (or its error) unless a newer request was made. */
async function process() {
  const seq = ++view.seq;
  const spec = currentSpec();
  if (!view.key) return;
  if (!spec) {
    clearResult();
    setError($("#spec-error"), null);
    return;
  }
  const started = performance.now();
  let blob;
  let type;
  try {
    const r = await state.client.request("GET", { bucket: view.bucket, key: view.key, query: { "x-oss-process": spec } });
    type = r.headers.get("content-type") || "";
    blob = await r.blob();
  } catch (e) {
    if (seq !== view.seq) return;
    clearResult();
    setError($("#spec-error"), e);
    return;
  }
  if (seq !== view.seq) return;
  const ms = Math.round(performance.now() - started);
  setError($("#spec-error"), null);
  clearResult();
  $("#result-size").textContent = formatBytes(blob.size) + " (" + blob.size + " bytes)";
  $("#result-time").textContent = ms + " ms";
  if (type.includes("json")) {
    $("#result-json").textContent = await blob.text();
    show($("#result-json"));
    return;
  }
  URL.revokeObjectURL(view.resultUrl);
  view.resultUrl = URL.createObjectURL(blob);
  $("#result-img").src = view.resultUrl;
  show($("#result-img"));
}

async function saveStyle() {
  const name = $("#save-style-name").value.trim();
  const body = "<Style><Content>" + xmlEscape(currentSpec()) + "</Content></Style>";
  await state.client.sendXml("PUT", { bucket: view.bucket, query: { style: "", styleName: name } }, body);
  toast("Saved the style " + name + "; use it as style/" + name + ".");
}

async function saveAs() {
  const bucket = $("#saveas-bucket").value;
  const key = $("#saveas-key").value.trim();
  const spec = currentSpec() + "|sys/saveas,o_" + base64Url(key) + ",b_" + base64Url(bucket);
  const r = await state.client.request("POST", {
    bucket: view.bucket,
    key: view.key,
    query: { "x-oss-process": "" },
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "x-oss-process=" + encodeURIComponent(spec),
  });
  const result = await r.json();
  $("#saveas-result").textContent = "Saved " + bucket + "/" + result.object + " (" + result.fileSize + " bytes).";
  show($("#saveas-result"));
}
