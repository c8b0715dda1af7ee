// The L-shaped axes of the lab's plain charts, with the value at the top
// and at the bottom of the vertical axis.

export function drawAxes(ctx, pad, pw, ph, top, bottom) {
  ctx.strokeStyle = '#333';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(pad.l, pad.t);
  ctx.lineTo(pad.l, pad.t + ph);
  ctx.lineTo(pad.l + pw, pad.t + ph);
  ctx.stroke();
  ctx.fillStyle = '#333';
  ctx.textAlign = 'right';
  ctx.fillText(top, pad.l - 6, pad.t + 12);
  ctx.fillText(bottom, pad.l - 6, pad.t + ph);
  ctx.textAlign = 'left';
}
