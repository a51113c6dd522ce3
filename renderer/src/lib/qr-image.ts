import decodeQR from 'qr/decode.js';

/** A picture of a payment QR code is small; a larger file is refused before it is decoded. */
export const MAX_QR_IMAGE_BYTES = 10 * 1024 * 1024;
/** Longest side decoded, in pixels: a phone photo is scaled down (decoding time grows with pixels). */
const MAX_SIDE = 1600;

/** The text of the QR code in an image file (PNG, JPEG, GIF, …); an Error in words when there is none. */
export async function qrTextFromImage(file: Blob): Promise<string> {
  if (file.size > MAX_QR_IMAGE_BYTES) throw new Error('That image is too large (at most 10 MB).');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error('That file is not an image this app can read.');
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  // White under a transparent image: the decoder reads dark modules on a light background.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  try {
    return decodeQR({ width, height, data: context.getImageData(0, 0, width, height).data });
  } catch {
    throw new Error('No QR code was found in that image.');
  }
}
