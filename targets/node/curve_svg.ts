// A training curve as a standalone SVG (or an HTML page holding it), no charting library:
// the loss on the left axis (linear, from 0), accuracy on the right axis (0-100 %), both over
// training steps.

export interface TrainingCurve {
  title: string;
  /** [step, loss] points, e.g. a moving average of per-step losses. */
  loss: [number, number][];
  /** [step, accuracy in 0..1] points, e.g. held-out accuracy after each epoch. */
  accuracy: [number, number][];
  /** Axis label of x. */
  xLabel?: string;
}

const W = 720, H = 400;
const M = { left: 64, right: 64, top: 40, bottom: 48 };
const LOSS_COLOR = '#d9480f', ACC_COLOR = '#1864ab';

/** The curve as an SVG document. */
export function curveSvg(c: TrainingCurve): string {
  const xs = [...c.loss, ...c.accuracy].map((p) => p[0]);
  const xMax = Math.max(1, ...xs);
  const lossMax = niceCeil(Math.max(1e-6, ...c.loss.map((p) => p[1]).filter(Number.isFinite)));
  const px = (x: number) => M.left + (x / xMax) * (W - M.left - M.right);
  const py = (f: number) => H - M.bottom - f * (H - M.top - M.bottom);
  const path = (pts: [number, number][], scale: number) =>
    pts.filter((p) => Number.isFinite(p[1])).map((p, i) => `${i ? 'L' : 'M'}${px(p[0]).toFixed(1)},${py(p[1] / scale).toFixed(1)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escape(c.title)}</text>`,
  ];
  for (const t of ticks) {
    const y = py(t).toFixed(1);
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="${LOSS_COLOR}">${+(t * lossMax).toPrecision(3)}</text>`);
    out.push(`<text x="${W - M.right + 6}" y="${y}" dominant-baseline="middle" fill="${ACC_COLOR}">${(100 * t).toFixed(0)} %</text>`);
    const x = px(t * xMax).toFixed(1);
    out.push(`<text x="${x}" y="${H - M.bottom + 18}" text-anchor="middle">${Math.round(t * xMax)}</text>`);
  }
  out.push(`<text x="${W / 2}" y="${H - 10}" text-anchor="middle">${escape(c.xLabel ?? 'training steps')}</text>`);
  out.push(`<text x="16" y="${H / 2}" transform="rotate(-90 16 ${H / 2})" text-anchor="middle" fill="${LOSS_COLOR}">loss</text>`);
  out.push(`<text x="${W - 16}" y="${H / 2}" transform="rotate(90 ${W - 16} ${H / 2})" text-anchor="middle" fill="${ACC_COLOR}">held-out accuracy</text>`);
  out.push(`<path d="${path(c.loss, lossMax)}" fill="none" stroke="${LOSS_COLOR}" stroke-width="1.5"/>`);
  out.push(`<path d="${path(c.accuracy, 1)}" fill="none" stroke="${ACC_COLOR}" stroke-width="2"/>`);
  for (const [x, a] of c.accuracy) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(a).toFixed(1)}" r="3.5" fill="${ACC_COLOR}"><title>${(100 * a).toFixed(2)} %</title></circle>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The curve in a minimal HTML page. */
export function curveHtml(c: TrainingCurve): string {
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escape(c.title)}</title></head>\n<body>\n${curveSvg(c)}</body></html>\n`;
}

/** Mean of each run of `window` consecutive values, placed at the run's last step (1-based). */
export function movingAverage(values: readonly number[], window: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < values.length; start += window) {
    const run = values.slice(start, start + window);
    out.push([start + run.length, run.reduce((s, v) => s + v, 0) / run.length]);
  }
  return out;
}

/** The smallest of 1, 2, 5 x 10^k that is >= x. */
function niceCeil(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= x)!;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
