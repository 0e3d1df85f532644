// Charts as inline SVG built through the DOM: no library, nothing fetched, and no
// style attributes (the content security policy forbids them), only SVG attributes.

const NS = "http://www.w3.org/2000/svg";
export const COLORS = {ham: "#2e7d32", unsure: "#b26a00", spam: "#c62828",
                       p50: "#24476b", p95: "#7d9bbf"};
const VERDICTS = ["ham", "unsure", "spam"];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function chart(width, height, label) {
  return s("svg", {viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img",
                   "aria-label": label, preserveAspectRatio: "xMidYMid meet"});
}

function cut(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function signed(x) {
  return `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(2)}`;
}

// A verdict's clues as bars from a middle line: right (red) pushes toward spam, left
// (green) toward ham, longer is stronger. The weights are log-odds, summing to the score.
export function clueChart(clues) {
  const rowH = 26, labelW = 320, barW = 600, top = 26, width = labelW + barW + 10;
  const height = top + clues.length * rowH + 6;
  const max = Math.max(...clues.map((c) => Math.abs(c.weight)), 1e-9);
  const mid = labelW + barW / 2, reach = barW / 2 - 56;
  const svg = chart(width, height, "The clues behind the verdict, by weight");
  svg.append(
    s("text", {x: mid - 8, y: 16, "text-anchor": "end", "font-size": 12, fill: COLORS.ham},
      "← toward ham"),
    s("text", {x: mid + 8, y: 16, "font-size": 12, fill: COLORS.spam}, "toward spam →"),
    s("line", {x1: mid, x2: mid, y1: top - 4, y2: height - 2, class: "axis"}));
  clues.forEach((c, i) => {
    const y = top + i * rowH, len = Math.max(1, (Math.abs(c.weight) / max) * reach);
    const right = c.weight >= 0;
    const g = s("g", {class: "clue"}, s("title", {}, `${c.clue}: ${signed(c.weight)} log-odds`));
    g.append(
      s("text", {x: labelW - 10, y: y + rowH / 2 + 4, "text-anchor": "end", "font-size": 13,
                 "font-family": "ui-monospace, monospace"}, cut(c.clue, 40)),
      s("rect", {x: right ? mid : mid - len, y: y + 4, width: len, height: rowH - 8, rx: 2,
                 fill: right ? COLORS.spam : COLORS.ham}),
      s("text", {x: right ? mid + len + 5 : mid - len - 5, y: y + rowH / 2 + 4,
                 "text-anchor": right ? "start" : "end", "font-size": 12}, signed(c.weight)));
    svg.append(g);
  });
  return svg;
}

function niceMax(x) {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= x);
}

function frame(svg, {left, top, plotW, plotH, max, unit, minutes}) {
  for (const f of [0, 0.5, 1]) {
    const y = top + plotH - f * plotH;
    svg.append(s("line", {x1: left, x2: left + plotW, y1: y, y2: y, class: f ? "grid" : "axis"}),
               s("text", {x: left - 6, y: y + 4, "text-anchor": "end", "font-size": 11},
                 `${+(f * max).toFixed(2)}${unit}`));
  }
  const step = plotW / minutes.length;
  minutes.forEach((m, i) => {
    if (i % 10 !== 0 && i !== minutes.length - 1) return;
    if (i !== minutes.length - 1 && minutes.length - 1 - i < 5) return;  // no overlap
    const t = new Date(m.start);
    const label = t.toLocaleTimeString(undefined, {hour: "2-digit", minute: "2-digit"});
    const last = i === minutes.length - 1;
    svg.append(s("text", {x: last ? left + plotW : left + (i + 0.5) * step, y: top + plotH + 16,
                          "font-size": 11, "text-anchor": last ? "end" : "middle"}, label));
  });
}

// Messages a minute, each bar stacked by verdict.
export function perMinuteChart(minutes) {
  const width = 900, height = 220, left = 44, top = 10, plotW = width - left - 10;
  const plotH = height - top - 26;
  const max = niceMax(Math.max(...minutes.map((m) => m.ham + m.unsure + m.spam), 0));
  const svg = chart(width, height, "Messages classified each minute, by verdict");
  frame(svg, {left, top, plotW, plotH, max, unit: "", minutes});
  const step = plotW / minutes.length, bw = Math.max(1, step - 2);
  minutes.forEach((m, i) => {
    let y = top + plotH;
    const g = s("g", {}, s("title", {},
      `${new Date(m.start).toLocaleTimeString()}: ${m.ham} ham, ${m.unsure} unsure, ${m.spam} spam`));
    for (const v of VERDICTS) {
      if (!m[v]) continue;
      const hgt = (m[v] / max) * plotH;
      y -= hgt;
      g.append(s("rect", {x: left + i * step + 1, y, width: bw, height: hgt, fill: COLORS[v]}));
    }
    svg.append(g);
  });
  return svg;
}

// Classify latency a minute: median and 95th percentile, gaps where nothing came.
export function latencyChart(minutes) {
  const width = 900, height = 220, left = 54, top = 10, plotW = width - left - 10;
  const plotH = height - top - 26;
  const max = niceMax(Math.max(...minutes.map((m) => m.latency_ms_p95 || 0), 0));
  const svg = chart(width, height, "Classify latency each minute, median and 95th percentile");
  frame(svg, {left, top, plotW, plotH, max, unit: " ms", minutes});
  const step = plotW / minutes.length;
  for (const [key, name] of [["latency_ms_p95", "p95"], ["latency_ms_p50", "p50"]]) {
    let d = "", pen = "M";
    minutes.forEach((m, i) => {
      const v = m[key];
      if (v === null || v === undefined) { pen = "M"; return; }
      const x = left + (i + 0.5) * step, y = top + plotH - (v / max) * plotH;
      d += `${pen}${x.toFixed(1)},${y.toFixed(1)} `;
      pen = "L";
      svg.append(s("circle", {cx: x, cy: y, r: 2.5, fill: COLORS[name]},
                   s("title", {}, `${name} ${v} ms`)));
    });
    if (d) svg.append(s("path", {d, fill: "none", stroke: COLORS[name], "stroke-width": 2}));
  }
  return svg;
}

// Shares of each verdict as one bar across.
export function mixChart(counts) {
  const width = 900, height = 46;
  const total = VERDICTS.reduce((a, v) => a + (counts[v] || 0), 0);
  const svg = chart(width, height, "Verdict mix");
  if (!total) {
    svg.append(s("rect", {x: 0, y: 4, width, height: 30, fill: "#e3e8ed", rx: 4}),
               s("text", {x: width / 2, y: 24, "text-anchor": "middle", "font-size": 13},
                 "no messages yet"));
    return svg;
  }
  let x = 0;
  for (const v of VERDICTS) {
    const n = counts[v] || 0;
    if (!n) continue;
    const w = (n / total) * width;
    const pct = `${Math.round((100 * n) / total)}%`;
    svg.append(s("g", {}, s("title", {}, `${v}: ${n} (${pct})`),
      s("rect", {x, y: 4, width: w, height: 30, fill: COLORS[v]}),
      w > 70 ? s("text", {x: x + w / 2, y: 24, "text-anchor": "middle", "font-size": 13,
                          fill: "#fff"}, `${v} ${pct}`) : s("g")));
    x += w;
  }
  return svg;
}
