// Statistics: this server's last hour from its own counts (GET /v1/stats), redrawn
// every 10 seconds while the page is open.

import {get} from "./api.js";
import {latencyChart, mixChart, perMinuteChart} from "./charts.js";
import {clear, h, when} from "./dom.js";

const REFRESH_MS = 10000;

export async function render(root) {
  const body = h("div", {id: "stats"});
  root.append(h("h1", {}, "Statistics"), body);
  await draw(body);
  const timer = setInterval(() => draw(body).catch(() => {}), REFRESH_MS);
  return () => clearInterval(timer);
}

function tile(label, value, id) {
  return h("div", {class: "tile", id}, h("b", {}, value), label);
}

async function draw(body) {
  const s = await get("/v1/stats");
  const hour = {ham: 0, unsure: 0, spam: 0};
  let requests = 0;
  for (const m of s.minutes) {
    for (const v of Object.keys(hour)) hour[v] += m[v];
    requests += m.requests;
  }
  const messages = hour.ham + hour.unsure + hour.spam;
  const busy = s.minutes.filter((m) => m.requests);
  const legend = (...names) => h("div", {class: "legend"}, names.map((n) => h("span", {class: n}, n)));
  clear(body).append(
    h("div", {class: "tiles"},
      tile("messages in the last hour", messages, "tile-hour"),
      tile("a minute, on average", (messages / s.minutes.length).toFixed(2), "tile-rate"),
      tile("classify requests", requests, "tile-requests"),
      tile("median latency, last busy minute",
           busy.length ? `${busy[busy.length - 1].latency_ms_p50.toFixed(1)} ms` : "—",
           "tile-latency"),
      s.store ? tile("classifications kept", s.store.classifications, "tile-kept") : null,
      s.store ? tile("feedback events", s.store.events, "tile-events") : null,
      s.store ? tile("conflicts", s.store.conflicts, "tile-conflicts") : null),
    h("h2", {}, "Messages a minute"), legend("ham", "unsure", "spam"),
    h("div", {class: "card", id: "chart-rate"}, perMinuteChart(s.minutes)),
    h("h2", {}, "Verdict mix, last hour"),
    h("div", {class: "card", id: "chart-mix"}, mixChart(hour)),
    h("h2", {}, "Classify latency"), legend("p50", "p95"),
    h("div", {class: "card", id: "chart-latency"}, latencyChart(s.minutes)),
    h("p", {class: "muted"},
      `This server process, counting since ${when(s.started_at)}; serving model ${s.model_version}. ` +
      `Since start: ${s.totals.ham} ham, ${s.totals.unsure} unsure, ${s.totals.spam} spam. ` +
      `Classifications are kept ${s.history_days ? `${s.history_days} days` : "for ever"}. ` +
      "With several workers, each counts its own."));
}
