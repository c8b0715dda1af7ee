// Image grids (reconstructions, samples) drawn from the RGBA bytes wasm returns.

export function drawImage(canvas, img) {
  if (!img) return;
  if (canvas.width !== img.width || canvas.height !== img.height) {
    canvas.width = img.width;
    canvas.height = img.height;
  }
  canvas.getContext('2d').putImageData(new ImageData(img.data, img.width, img.height), 0, 0);
}

export function clear(canvas, text) {
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (text) {
    ctx.fillStyle = '#444';
    ctx.font = '15px system-ui, sans-serif';
    ctx.fillText(text, 12, 26);
  }
}

/** A small canvas holding a copy of `img`, for the run history and comparisons. */
export function snapshot(img) {
  const c = document.createElement('canvas');
  drawImage(c, img);
  return c;
}

export function downloadCanvas(canvas, name) {
  canvas.toBlob((blob) => download(blob, name), 'image/png');
}

export function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
