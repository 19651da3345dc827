// The console's entry point: sign-in, the bucket list and the bucket tabs.

import { usesWebCrypto } from "./crypto.js";
import { Client, xmlText } from "./oss.js";
import { state } from "./state.js";
import { $, $$, busy, confirmDialog, h, setError, show, toast } from "./ui.js";
import * as objects from "./objects.js";
import * as image from "./image.js";
import * as styles from "./styles.js";
import * as settings from "./settings.js";

const SESSION_KEY = "ossify-console";

// ---------------------------------------------------------------------------
// sign-in

async function serverRegion() {
  try {
    const r = await fetch("region", { cache: "no-store" });
    if (r.ok) return await r.json();
  } catch {
    // filled in by hand then
  }
  return null;
}

/** ListBuckets with `client`, every page. */
async function listBuckets(client) {
  const names = [];
  let marker = "";
  for (;;) {
    const doc = await client.xml("GET", { query: { "max-keys": "1000", ...(marker ? { marker } : {}) } });
    for (const b of doc.getElementsByTagName("Bucket")) names.push(xmlText(b, "Name"));
    if (xmlText(doc, "IsTruncated") !== "true") return names;
    marker = xmlText(doc, "NextMarker");
  }
}

async function signIn(id, secret, region, remember) {
  const client = new Client(id, secret, region);
  let buckets = [];
  let listError = null;
  try {
    buckets = await listBuckets(client);
  } catch (e) {
    // An authorization denial (not an authentication one, EC 0002-…) still proves the
    // key: a RAM user without oss:ListBuckets.
    if (e.code !== "AccessDenied" || e.ec.startsWith("0002-")) throw e;
    listError = e;
  }
  state.client = client;
  state.buckets = buckets;
  if (remember) sessionStorage.setItem(SESSION_KEY, JSON.stringify({ id, secret, region }));
  $("#whoami").textContent = id + " @ " + region;
  show($("#whoami"));
  show($("#signout"));
  show($("#signin-view"), false);
  show($("#app-view"));
  renderBuckets(listError);
  let wanted = "";
  try {
    wanted = decodeURIComponent(location.hash.slice(1));
  } catch {
    // not a bucket name
  }
  if (wanted && buckets.includes(wanted)) openBucket(wanted);
}

function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
  state.client = null;
  state.buckets = [];
  state.bucket = "";
  location.hash = "";
  location.reload();
}

async function start() {
  const region = await serverRegion();
  if (region) state.regionName = region.region;
  $("#signin-region").value = region ? region.signingRegion : "cn-hangzhou";
  show($("#insecure"), !usesWebCrypto);
  $("#new-bucket-region").textContent = state.regionName || $("#signin-region").value;
  $("#signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy(
      $("#signin-submit"),
      () => signIn($("#signin-id").value.trim(), $("#signin-secret").value, $("#signin-region").value.trim(), true),
      $("#signin-error"),
    );
  });
  $("#signout").addEventListener("click", signOut);
  wireBuckets();
  wireTabs();
  objects.wire({ openImage });
  image.wire();
  styles.wire();
  settings.wire();

  const saved = sessionStorage.getItem(SESSION_KEY);
  if (saved) {
    const { id, secret, region: r } = JSON.parse(saved);
    try {
      await signIn(id, secret, r, false);
      return;
    } catch (e) {
      sessionStorage.removeItem(SESSION_KEY);
      setError($("#signin-error"), e);
    }
  }
  show($("#signin-view"));
  $("#signin-id").focus();
}

// ---------------------------------------------------------------------------
// buckets

function renderBuckets(error) {
  const list = $("#bucket-list");
  list.replaceChildren(
    ...state.buckets.map((name) =>
      h(
        "li",
        {},
        h(
          "a",
          {
            href: "#" + encodeURIComponent(name),
            class: name === state.bucket ? "bucket current" : "bucket",
            dataset: { bucket: name },
            onclick: (e) => {
              e.preventDefault();
              openBucket(name);
            },
          },
          name,
        ),
      ),
    ),
  );
  if (!state.buckets.length && !error) list.append(h("li", { class: "muted" }, "No buckets yet."));
  setError($("#buckets-error"), error);
  image.setBuckets(state.buckets);
}

async function reloadBuckets() {
  try {
    state.buckets = await listBuckets(state.client);
    renderBuckets(null);
  } catch (e) {
    renderBuckets(e);
  }
}

function openBucket(name) {
  state.bucket = name;
  history.replaceState(null, "", "#" + encodeURIComponent(name));
  $("#bucket-title").textContent = name;
  $("#bucket-region").textContent = "";
  show($("#no-bucket"), false);
  show($("#bucket-view"));
  show($("#tab-btn-image"), false);
  $$("#bucket-list a").forEach((a) => a.classList.toggle("current", a.dataset.bucket === name));
  selectTab("objects");
  objects.open(name);
  state.client
    .xml("GET", { bucket: name, query: { location: "" } })
    .then((doc) => {
      if (state.bucket === name) $("#bucket-region").textContent = doc.documentElement.textContent;
    })
    .catch(() => {});
}

function closeBucket() {
  state.bucket = "";
  history.replaceState(null, "", "#");
  show($("#bucket-view"), false);
  show($("#no-bucket"));
}

/** Delete every object and unfinished upload of `bucket`. */
async function emptyBucket(bucket) {
  for (;;) {
    const doc = await state.client.xml("GET", { bucket, query: { "list-type": "2", "max-keys": "1000" } });
    const keys = Array.from(doc.getElementsByTagName("Contents"), (c) => xmlText(c, "Key"));
    if (!keys.length) break;
    await objects.deleteKeys(bucket, keys);
  }
  for (;;) {
    const doc = await state.client.xml("GET", { bucket, query: { uploads: "", "max-uploads": "1000" } });
    const uploads = Array.from(doc.getElementsByTagName("Upload"));
    if (!uploads.length) break;
    for (const u of uploads) {
      await state.client.request("DELETE", {
        bucket,
        key: xmlText(u, "Key"),
        query: { uploadId: xmlText(u, "UploadId") },
      });
    }
  }
}

async function deleteBucket() {
  const bucket = state.bucket;
  if (!(await confirmDialog("Delete the bucket " + bucket + "?"))) return;
  try {
    await state.client.request("DELETE", { bucket });
  } catch (e) {
    if (e.code !== "BucketNotEmpty") throw e;
    const ok = await confirmDialog(
      "The bucket " + bucket + " is not empty. Delete all its objects and unfinished uploads, then the bucket?",
      "Delete everything",
    );
    if (!ok) return;
    await emptyBucket(bucket);
    await state.client.request("DELETE", { bucket });
  }
  toast("Deleted the bucket " + bucket + ".");
  closeBucket();
  await reloadBuckets();
}

async function createBucket() {
  const name = $("#new-bucket-name").value.trim();
  const acl = $("#new-bucket-acl").value;
  await state.client.sendXml(
    "PUT",
    { bucket: name, headers: { "x-oss-acl": acl } },
    "<CreateBucketConfiguration><StorageClass>Standard</StorageClass></CreateBucketConfiguration>",
  );
  $("#new-bucket-name").value = "";
  $("#create-bucket").open = false;
  toast("Created the bucket " + name + ".");
  await reloadBuckets();
  openBucket(name);
}

function wireBuckets() {
  $("#refresh-buckets").addEventListener("click", reloadBuckets);
  $("#create-bucket-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("#create-bucket-submit"), createBucket, $("#create-bucket-error"));
  });
  $("#open-bucket-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("#open-bucket-name").value.trim();
    if (name) openBucket(name);
  });
  $("#delete-bucket").addEventListener("click", () => busy($("#delete-bucket"), deleteBucket));
}

// ---------------------------------------------------------------------------
// tabs

function selectTab(name) {
  for (const button of $$(".tabs [role=tab]")) {
    const selected = button.dataset.tab === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    show($("#tab-" + button.dataset.tab), selected);
  }
  if (name === "styles") styles.open(state.bucket);
  if (name === "settings") settings.open(state.bucket);
}

function wireTabs() {
  const tabs = $$(".tabs [role=tab]");
  for (const button of tabs) {
    button.addEventListener("click", () => selectTab(button.dataset.tab));
    button.addEventListener("keydown", (e) => {
      if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
      const visible = tabs.filter((t) => !t.hidden);
      const i = visible.indexOf(button) + (e.key === "ArrowRight" ? 1 : -1);
      const next = visible[(i + visible.length) % visible.length];
      next.focus();
      selectTab(next.dataset.tab);
    });
  }
  $("#image-back").addEventListener("click", () => selectTab("objects"));
}

function openImage(bucket, key) {
  show($("#tab-btn-image"));
  selectTab("image");
  image.open(bucket, key);
}

start();
