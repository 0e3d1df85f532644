// History: the recent classifications, newest first, filtered and a page at a time.

import {get, query} from "./api.js";
import {badge, h, score, table, when} from "./dom.js";

const PAGE = 25;
// Cursors of the pages before this one, so "Newer" goes back without the server.
const trail = [];

export async function render(root, ctx, {params}) {
  const filters = {verdict: params.get("verdict") || "", q: params.get("q") || "",
                   sender: params.get("sender") || ""};
  const before = params.get("before") || "";
  const data = await get(`/v1/classifications${query({...filters, before, limit: PAGE})}`);

  const form = h("form", {class: "filters", id: "filters", onsubmit: (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    trail.length = 0;
    ctx.go(`#/history${query({verdict: f.get("verdict"), sender: f.get("sender").trim(),
                              q: f.get("q").trim()})}`);
  }},
    h("label", {}, "Verdict",
      h("select", {name: "verdict", id: "filter-verdict"},
        ["", "ham", "unsure", "spam"].map((v) =>
          h("option", {value: v, selected: v === filters.verdict}, v || "any")))),
    h("label", {}, "Sender", h("input", {name: "sender", id: "filter-sender",
                                          value: filters.sender, placeholder: "part of the address"})),
    h("label", {}, "Text", h("input", {name: "q", id: "filter-q", value: filters.q,
                                        placeholder: "subject or sender"})),
    h("button", {type: "submit"}, "Filter"),
    (filters.verdict || filters.q || filters.sender)
      ? h("a", {href: "#/history"}, "clear") : null);

  const rows = data.items.map((c) => h("tr", {class: "row", "data-id": c.id},
    h("td", {class: "nowrap"}, when(c.created_at)),
    h("td", {}, c.sender === null ? h("span", {class: "muted"}, "—") : c.sender),
    h("td", {class: "subject"},
      h("a", {href: `#/message/${encodeURIComponent(c.id)}`, class: "message-link",
              title: c.subject || ""}, c.subject || "(no subject)")),
    h("td", {}, badge(c.verdict)),
    h("td", {class: "num"}, score(c.score)),
    h("td", {class: "nowrap muted"}, c.model_version)));

  const pageLink = (cursor) => `#/history${query({...filters, before: cursor})}`;
  const pager = h("div", {class: "pager"},
    h("button", {type: "button", class: "plain", id: "newer", disabled: !before, onclick: () => {
      trail.pop();
      ctx.go(pageLink(trail.length ? trail[trail.length - 1] : ""));
    }}, "← Newer"),
    h("button", {type: "button", class: "plain", id: "older", disabled: !data.next_before,
                 onclick: () => { trail.push(data.next_before); ctx.go(pageLink(data.next_before)); }},
      "Older →"),
    h("span", {class: "muted"}, `${data.items.length} shown`));

  root.append(
    h("h1", {}, "History"),
    form,
    data.items.length
      ? table([["Time"], ["Sender"], ["Subject"], ["Verdict"], ["Score", "num"], ["Model"]],
              rows, {id: "history"})
      : h("p", {class: "card muted", id: "history-empty"},
          "No classifications kept" + (filters.verdict || filters.q || filters.sender
            ? " match these filters." : " yet: they appear here as the service classifies mail.")),
    pager);
}
