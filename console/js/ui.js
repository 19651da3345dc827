// DOM helpers shared by the console's views.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** `h("td", {class: "size"}, "12 B")`: an element; strings become text nodes, never HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function show(el, visible = true) {
  el.hidden = !visible;
}

/** Show an error (an OssError prints as "Code: Message") in `el`, or clear it. */
export function setError(el, error) {
  el.textContent = error ? String(error) : "";
  el.hidden = !error;
}

let toastTimer = 0;

/** A short status message at the bottom of the page. */
export function toast(text, isError = false) {
  const el = $("#toast");
  el.textContent = String(text);
  el.classList.toggle("error", isError);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), isError ? 8000 : 4000);
}

/** Ask a yes/no question in the confirmation dialog; resolves to true for yes. */
export function confirmDialog(text, yesLabel = "Delete") {
  const dialog = $("#confirm");
  $("#confirm-text").textContent = text;
  $("#confirm-yes").textContent = yesLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
  });
}

export function formatBytes(n) {
  n = Number(n);
  if (n < 1024) return n + " B";
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let i = -1;
  do {
    n /= 1024;
    i++;
  } while (n >= 1024 && i < units.length - 1);
  return n.toFixed(n < 10 ? 1 : 0) + " " + units[i];
}

export function formatDate(text) {
  const d = new Date(text);
  return isNaN(d) ? text : d.toLocaleString();
}

/** Disable `button` while `work()` runs; errors go to `errorEl` (or a toast). */
export async function busy(button, work, errorEl) {
  if (button) button.disabled = true;
  if (errorEl) setError(errorEl, null);
  try {
    return await work();
  } catch (e) {
    if (errorEl) setError(errorEl, e);
    else toast(e, true);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
