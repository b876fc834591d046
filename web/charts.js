// Small bar charts as inline SVG: built from DOM nodes (no HTML strings, nothing from a CDN).

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== null) el.textContent = String(text);
  return el;
}

/**
 * Vertical bars, one per { label, value, title } (value null: no bar, "—" shown).
 * `max` fixes the scale (e.g. 1 for shares); `format` writes a value above its bar;
 * `target` draws a dashed line at that value.
 */
export function barChart(bars, { max = null, format = String, target = null, label = "", className = "" } = {}) {
  const width = 520;
  const height = 200;
  const pad = { top: 22, right: 8, bottom: 34, left: 8 };
  const top = max ?? Math.max(1, ...bars.map((b) => b.value ?? 0));
  const plotH = height - pad.top - pad.bottom;
  const slot = (width - pad.left - pad.right) / Math.max(1, bars.length);
  const barW = Math.min(56, slot * 0.62);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: `chart ${className}` });
  svg.append(s("line", { x1: pad.left, x2: width - pad.right, y1: height - pad.bottom, y2: height - pad.bottom, class: "chart-axis" }));
  bars.forEach((bar, i) => {
    const x = pad.left + slot * i + (slot - barW) / 2;
    const group = s("g", { class: "chart-bar", "data-label": bar.label });
    if (bar.value !== null && bar.value !== undefined) {
      const h = (Math.min(bar.value, top) / top) * plotH;
      const rect = s("rect", { x, y: height - pad.bottom - h, width: barW, height: Math.max(h, 1), rx: 2 });
      rect.append(s("title", {}, bar.title || `${bar.label}: ${format(bar.value)}`));
      group.append(rect);
      group.append(s("text", { x: x + barW / 2, y: height - pad.bottom - h - 5, "text-anchor": "middle", class: "chart-value" }, format(bar.value)));
    } else {
      group.append(s("text", { x: x + barW / 2, y: height - pad.bottom - 5, "text-anchor": "middle", class: "chart-value" }, "—"));
    }
    group.append(s("text", { x: x + barW / 2, y: height - pad.bottom + 16, "text-anchor": "middle", class: "chart-label" }, bar.label));
    svg.append(group);
  });
  if (target !== null) {
    const y = height - pad.bottom - (Math.min(target, top) / top) * plotH;
    svg.append(s("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "chart-target" }));
  }
  return svg;
}
