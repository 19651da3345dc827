// Hashes for request signing. SHA-256 and HMAC-SHA256 come from WebCrypto where the
// page is a secure context (https, or http on localhost / 127.0.0.1 / ::1); elsewhere
// `crypto.subtle` does not exist and the vendored @noble/hashes (MIT, see
// ../vendor/noble-hashes/LICENSE) does the same work. MD5, which WebCrypto lacks, is
// needed for the Content-MD5 of DeleteMultipleObjects and always comes from there.

import { hmac } from "../vendor/noble-hashes/hmac.js";
import { md5 } from "../vendor/noble-hashes/legacy.js";
import { sha256 } from "../vendor/noble-hashes/sha2.js";

const encoder = new TextEncoder();
const subtle = globalThis.isSecureContext && globalThis.crypto ? globalThis.crypto.subtle : null;

/** Whether signing uses WebCrypto: false where the page is not a secure context. */
export const usesWebCrypto = Boolean(subtle);

function bytes(data) {
  return typeof data === "string" ? encoder.encode(data) : data;
}

export function hex(data) {
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function base64(data) {
  let binary = "";
  for (const b of data) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** URL-safe base64 of a string's UTF-8 bytes, without padding (image processing parameters). */
export function base64Url(text) {
  return base64(bytes(text)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function sha256Hex(data) {
  if (subtle) return hex(new Uint8Array(await subtle.digest("SHA-256", bytes(data))));
  return hex(sha256(bytes(data)));
}

/** HMAC-SHA256 of `message` under `key` (string or bytes), as bytes. */
export async function hmacSha256(key, message) {
  if (subtle) {
    const k = await subtle.importKey("raw", bytes(key), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    return new Uint8Array(await subtle.sign("HMAC", k, bytes(message)));
  }
  return hmac(sha256, bytes(key), bytes(message));
}

export function md5Base64(data) {
  return base64(md5(bytes(data)));
}
