// Photos are made smaller on the phone before they are kept and uploaded: at most 1600 px on
// the long side, JPEG. A small thumbnail (a data: URL, which the page's CSP admits) is kept
// beside it for the visit screen.

export const MAX_SIDE = 1600;

async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    const url = await new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = reject;
      reader.readAsDataURL(file);
    });
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  }
}

function draw(image, maxSide) {
  const w = image.width, h = image.height;
  const scale = Math.min(1, maxSide / Math.max(w, h));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(w * scale));
  canvas.height = Math.max(1, Math.round(h * scale));
  canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas;
}

/** { bytes: ArrayBuffer (JPEG), width, height, thumb: data URL } */
export async function compress(file, maxSide = MAX_SIDE, quality = 0.82) {
  const image = await decode(file);
  const canvas = draw(image, maxSide);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  const thumb = draw(canvas, 160).toDataURL("image/jpeg", 0.6);
  return { bytes: await blob.arrayBuffer(), width: canvas.width, height: canvas.height, thumb };
}
