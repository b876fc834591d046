// Reading a part's label: a QR code or barcode from the camera, or from a photo of the label.
// The browser's BarcodeDetector where it has one (Android Chromium: QR and the usual barcodes);
// elsewhere the vendored jsQR, which reads QR codes only. The warehouse prints
// `FSD:ITEM:<sku>` on items and bins and `FSD:UNIT:<serial>` on serialised units; a plain SKU
// or serial (a maker's barcode) is taken as is.
import { h } from "../dom.js";
import { t } from "./i18n.js";

const MAX_SIDE = 1280; // enough for a label filling part of the frame; jsQR's time grows with pixels

/** What a label says: {kind: "item" | "unit" | "plain", value}. */
export function parseLabel(text) {
  const raw = String(text).trim();
  const match = /^FSD:(ITEM|UNIT):(.+)$/i.exec(raw);
  if (match) return { kind: match[1].toLowerCase(), value: match[2].trim() };
  return { kind: "plain", value: raw };
}

let detector = null;

async function nativeDetector() {
  if (!("BarcodeDetector" in globalThis)) return null;
  if (!detector) {
    const formats = await BarcodeDetector.getSupportedFormats().catch(() => []);
    if (!formats.length) return null;
    detector = new BarcodeDetector({ formats });
  }
  return detector;
}

async function jsQR() {
  if (!globalThis.jsQR) await import("../vendor/jsqr/jsQR.js"); // sets globalThis.jsQR
  return globalThis.jsQR;
}

/** The text of the first code in the picture (an ImageBitmap, a video or a canvas), or null. */
export async function decode(source, width, height) {
  const native = await nativeDetector();
  if (native) {
    const codes = await native.detect(source).catch(() => []);
    if (codes.length) return codes[0].rawValue;
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  const found = (await jsQR())(pixels.data, canvas.width, canvas.height, { inversionAttempts: "attemptBoth" });
  return found ? found.data : null;
}

export async function decodeFile(file) {
  const bitmap = await createImageBitmap(file);
  try {
    return await decode(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/** Frames from the back camera until a code is read, 30 s pass, the page is hidden or `stop`. */
async function fromCamera(view, stop) {
  const video = h("video", { class: "scan-video", playsinline: true, muted: true });
  view.replaceChildren(video);
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    await video.play();
    const deadline = Date.now() + 30000;
    while (!stop.done && Date.now() < deadline && document.visibilityState === "visible") {
      if (video.videoWidth) {
        const text = await decode(video, video.videoWidth, video.videoHeight);
        if (text) return text;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return null;
  } finally {
    stream?.getTracks().forEach((track) => track.stop());
    view.replaceChildren();
  }
}

/**
 * A scan control: the camera (where there is one) and a photo of the label. `onText(text)`
 * applies what was read and answers {ok, message}: what was picked, or why nothing was.
 */
export function scanner(id, onText) {
  const status = h("p", { class: "hint scan-status", id: `${id}-status`, role: "status" });
  const view = h("div", { class: "scan-view" });
  const say = (ok, message) => {
    status.textContent = message;
    status.dataset.result = ok ? "picked" : "unknown";
  };
  const apply = (text) => {
    if (!text) return say(false, t("scan_none"));
    const answer = onText(text);
    say(answer.ok, answer.message);
  };
  const photo = h("input", { type: "file", accept: "image/*", capture: "environment", id: `${id}-photo` });
  photo.addEventListener("change", async () => {
    const file = photo.files[0];
    if (!file) return;
    status.textContent = t("scan_reading");
    delete status.dataset.result;
    apply(await decodeFile(file).catch(() => null));
    photo.value = "";
  });
  const stop = { done: true };
  const camera = navigator.mediaDevices?.getUserMedia
    ? h("button", { type: "button", class: "secondary", id: `${id}-camera`, onclick: async () => {
      if (!stop.done) return void (stop.done = true); // a second tap stops the camera
      stop.done = false;
      status.textContent = t("scanning");
      delete status.dataset.result;
      const text = await fromCamera(view, stop).catch(() => null);
      const cancelled = stop.done;
      stop.done = true;
      if (!cancelled || text) apply(text);
      else status.textContent = "";
    } }, t("scan_camera"))
    : null;
  return h("div", { class: "scan", id },
    camera ? h("div", { class: "actions" }, camera) : null,
    h("label", { for: photo.id }, t("scan_photo")), photo, view, status);
}
