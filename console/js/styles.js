// The Styles tab: ListStyle, PutStyle and DeleteStyle of the open bucket.

import { xmlEscape, xmlText } from "./oss.js";
import { state } from "./state.js";
import { $, busy, confirmDialog, formatDate, h, setError, show, toast } from "./ui.js";

let bucket = "";

export function wire() {
  $("#style-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy(e.submitter, save, $("#style-form-error"));
  });
}

export async function open(name) {
  bucket = name;
  setError($("#styles-error"), null);
  let doc;
  try {
    doc = await state.client.xml("GET", { bucket, query: { style: "" } });
  } catch (e) {
    $("#style-rows").replaceChildren();
    setError($("#styles-error"), e);
    return;
  }
  if (bucket !== name) return;
  const rows = Array.from(doc.getElementsByTagName("Style"), (s) => {
    const styleName = xmlText(s, "Name");
    const content = xmlText(s, "Content");
    return h(
      "tr",
      { dataset: { style: styleName } },
      h("td", {}, styleName),
      h("td", {}, h("code", {}, content)),
      h("td", {}, formatDate(xmlText(s, "LastModifyTime"))),
      h(
        "td",
        { class: "actions" },
        h("button", { type: "button", class: "secondary small", onclick: () => edit(styleName, content) }, "Edit"),
        h("button", { type: "button", class: "danger small", onclick: (e) => busy(e.currentTarget, () => remove(styleName), $("#styles-error")) }, "Delete"),
      ),
    );
  });
  $("#style-rows").replaceChildren(...rows);
  show($("#styles-empty"), !rows.length);
}

function edit(name, content) {
  $("#style-name").value = name;
  $("#style-content").value = content;
  $("#style-content").focus();
}

async function save() {
  const name = $("#style-name").value.trim();
  const body = "<Style><Content>" + xmlEscape($("#style-content").value.trim()) + "</Content></Style>";
  await state.client.sendXml("PUT", { bucket, query: { style: "", styleName: name } }, body);
  toast("Saved the style " + name + ".");
  await open(bucket);
}

async function remove(name) {
  if (!(await confirmDialog("Delete the style " + name + "?"))) return;
  await state.client.request("DELETE", { bucket, query: { style: "", styleName: name } });
  toast("Deleted the style " + name + ".");
  await open(bucket);
}
