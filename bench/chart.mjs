// The results chart: one SVG of horizontal bar charts, one panel per metric,
// intempt-edge vs the peers vs the floors. Each bar is the median; a thin line
// spans min–max over the repetitions; a dashed line marks a numeric target.
// Every panel has its own linear scale starting at 0.

const COLORS = {
  "intempt-edge": "#e4572e",
  "posthog-node": "#1d4ed8",
  "@segment/analytics-node": "#16a34a",
  "floor: JSON.stringify": "#9ca3af",
  "floor: fresh event": "#6b7280",
};

const WIDTH = 960;
const LABEL_W = 200;
const BAR_W = 560;
const ROW_H = 22;
const PANEL_GAP = 20;
/** Width of one character of a value label (11 px sans-serif), for fitting labels. */
const CHAR_W = 6.2;

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A short number: 3 significant digits, no exponent. */
export function fmt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

/**
 * panels: [{ title, unit, target?, bars: [{ label, median, min?, max?, note? }] }]
 * Returns the SVG text.
 */
export function renderChart(panels, { title = "intempt-edge benchmark", subtitle = "" } = {}) {
  const parts = [];
  let y = 48;
  for (const panel of panels) {
    const bars = panel.bars.filter((b) => Number.isFinite(b.median));
    if (bars.length === 0) continue;
    const top = Math.max(...bars.map((b) => Math.max(b.median, b.max ?? 0)), panel.target ?? 0) || 1;
    const scale = (v) => (Math.max(0, v) / top) * BAR_W;
    parts.push(`<text x="10" y="${y + 14}" class="panel">${esc(panel.title)}${panel.unit ? ` (${esc(panel.unit)})` : ""}</text>`);
    y += 22;
    const y0 = y;
    for (const bar of bars) {
      const color = COLORS[bar.label] ?? "#7c3aed";
      const w = Math.max(1, scale(bar.median));
      parts.push(`<text x="${LABEL_W - 8}" y="${y + 15}" class="label" text-anchor="end">${esc(bar.label)}</text>`);
      parts.push(`<rect x="${LABEL_W}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW_H - 6}" fill="${color}" rx="2"/>`);
      if (Number.isFinite(bar.min) && Number.isFinite(bar.max) && bar.max > bar.min) {
        const x1 = LABEL_W + scale(bar.min);
        const x2 = LABEL_W + scale(bar.max);
        const my = y + ROW_H / 2;
        parts.push(
          `<path d="M${x1.toFixed(1)} ${my}H${x2.toFixed(1)}M${x1.toFixed(1)} ${my - 4}V${my + 4}M${x2.toFixed(1)} ${my - 4}V${my + 4}" class="range"/>`,
        );
      }
      const range = Number.isFinite(bar.min) && bar.max > bar.min ? ` (${fmt(bar.min)}–${fmt(bar.max)})` : "";
      const text = `${fmt(bar.median)}${range}${bar.note ? " " + bar.note : ""}`;
      const labelX = LABEL_W + Math.max(w, Number.isFinite(bar.max) ? scale(bar.max) : 0) + 6;
      if (labelX + text.length * CHAR_W <= WIDTH - 4) {
        parts.push(`<text x="${labelX.toFixed(1)}" y="${y + 15}" class="value">${esc(text)}</text>`);
      } else {
        // No room right of the bar: write the label inside it, right-aligned.
        parts.push(`<text x="${(LABEL_W + w - 6).toFixed(1)}" y="${y + 15}" class="value inside" text-anchor="end">${esc(text)}</text>`);
      }
      y += ROW_H;
    }
    if (Number.isFinite(panel.target)) {
      const x = LABEL_W + scale(panel.target);
      parts.push(`<line x1="${x.toFixed(1)}" y1="${y0}" x2="${x.toFixed(1)}" y2="${y}" class="target"/>`);
      parts.push(`<text x="${(x + 3).toFixed(1)}" y="${y + 9}" class="tlabel">target ${fmt(panel.target)}</text>`);
    }
    y += PANEL_GAP;
  }
  const height = y + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<style>
  .title { font-size: 18px; font-weight: 600; fill: #111827; }
  .subtitle { font-size: 12px; fill: #4b5563; }
  .panel { font-size: 14px; font-weight: 600; fill: #111827; }
  .label { font-size: 12px; fill: #374151; }
  .value { font-size: 11px; fill: #111827; }
  .inside { fill: #ffffff; font-weight: 600; }
  .range { stroke: #111827; stroke-width: 1; fill: none; }
  .target { stroke: #dc2626; stroke-width: 1.5; stroke-dasharray: 4 3; }
  .tlabel { font-size: 10px; fill: #dc2626; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="22" class="title">${esc(title)}</text>
<text x="10" y="38" class="subtitle">${esc(subtitle)}</text>
${parts.join("\n")}
</svg>
`;
}
