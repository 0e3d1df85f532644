// Message: one classification, its clues as a chart, what the message holds, the votes
// on it, and the buttons that teach the filter (feedback scope) through POST
// /v1/feedback and DELETE /v1/feedback/{event}, as any client would: the audit trail
// records each, under this key.

import {api, get} from "./api.js";
import {clueChart} from "./charts.js";
import {append, badge, h, score, table, when} from "./dom.js";

export async function render(root, ctx, {path}) {
  const id = path[0];
  const c = await get(`/v1/classifications/${encodeURIComponent(id)}`);
  const mine = c.votes.filter((v) => v.by_you && !v.retracted_at);

  async function act(what, run) {
    for (const b of root.querySelectorAll(".actions button")) b.disabled = true;
    try {
      const text = await run();
      await rerender(root, ctx, path);
      ctx.notify(text);
    } catch (error) {
      await rerender(root, ctx, path);
      ctx.notify(`${what} failed: ${error.message}`, true);
    }
  }
  const learn = (label) => act(`Learning as ${label}`, async () => {
    const r = await api("POST", "/v1/feedback", {classification_id: c.id, label});
    return `Learned as ${label}` + (r.duplicate ? " (it had that label already)" : "") +
      (r.conflict ? ": other voters disagree, so it is a conflict now" : "") + `. Event ${r.event_id}.`;
  });
  const forget = () => act("Forgetting", async () => {
    for (const v of mine) await api("DELETE", `/v1/feedback/${encodeURIComponent(v.event_id)}`);
    return `Withdrew ${mine.length} vote${mine.length === 1 ? "" : "s"} of this key.`;
  });

  const facts = h("dl", {class: "facts"},
    h("dt", {}, "Verdict"), h("dd", {}, badge(c.verdict), ` score ${score(c.score)}`),
    h("dt", {}, "Sender"), h("dd", {}, c.sender ?? "—"),
    h("dt", {}, "Classified"), h("dd", {}, when(c.created_at)),
    h("dt", {}, "Model"), h("dd", {}, c.model_version),
    h("dt", {}, "Label from feedback"),
    h("dd", {id: "label"}, c.conflict ? h("span", {class: "badge unsure"}, "conflict")
                                      : c.label ? badge(c.label) : h("span", {class: "muted"}, "none")),
    h("dt", {}, "Message"), h("dd", {class: "muted"}, c.message_id.slice(0, 16) + "…"));

  const actions = ctx.can("feedback")
    ? h("div", {class: "actions card"},
        h("button", {type: "button", class: "spam", id: "learn-spam", onclick: () => learn("spam")},
          "Learn as spam"),
        h("button", {type: "button", class: "ham", id: "learn-ham", onclick: () => learn("ham")},
          "Learn as ham"),
        h("button", {type: "button", class: "plain", id: "forget", disabled: !mine.length,
                     onclick: forget}, "Forget my votes"),
        h("span", {class: "muted"}, "Recorded as this key's vote, with the audit trail."))
    : null;

  const parts = c.message;
  append(root, [
    h("p", {}, h("a", {href: "#/history"}, "← History")),
    h("h1", {id: "subject"}, c.subject || "(no subject)"),
    h("div", {class: "card"}, facts),
    actions,
    h("h2", {}, "Why: the clues"),
    c.clues && c.clues.length
      ? h("div", {class: "card", id: "clues"}, clueChart(c.clues))
      : h("p", {class: "muted"}, "No clues were kept for this classification."),
    h("h2", {}, "Flags"),
    h("div", {id: "flags"}, c.flags && c.flags.length ? c.flags.map((f) => h("span", {class: "chip"}, f))
                                                      : h("span", {class: "muted"}, "none")),
    parts ? [
      h("h2", {}, "What the message holds"),
      h("div", {class: "card grid2", id: "parts"},
        h("div", {}, h("b", {}, "Parts "), h("span", {class: "muted"}, `${parts.size} bytes`),
          h("div", {}, parts.content_types.map((t) => h("span", {class: "chip"}, t)))),
        h("div", {}, h("b", {}, "Attachments"),
          h("div", {}, parts.attachments.length
            ? parts.attachments.map((a) => h("span", {class: "chip"}, `${a.filename || "(unnamed)"} · ${a.content_type} · ${a.size} B`))
            : h("span", {class: "muted"}, " none"))),
        h("div", {}, h("b", {}, "Link hosts"),
          h("div", {}, parts.url_hosts.length ? parts.url_hosts.map((u) => h("span", {class: "chip"}, u))
                                              : h("span", {class: "muted"}, " none"))),
        h("div", {}, h("b", {}, "Authentication results"),
          h("div", {}, parts.authentication.length
            ? parts.authentication.map((a) => h("div", {class: "chip"}, a))
            : h("span", {class: "muted"}, " none recorded by the receiving servers"))))]
      : h("p", {class: "muted"}, "The message itself is no longer stored."),
    h("h2", {}, "Votes"),
    c.votes.length
      ? table([["Voter"], ["Label"], ["Through"], ["When"], ["State"]],
          c.votes.map((v) => h("tr", {"data-event": v.event_id},
            h("td", {}, v.voter, v.by_you ? h("span", {class: "muted"}, " (this key)") : null),
            h("td", {}, badge(v.label)), h("td", {}, v.source), h("td", {}, when(v.created_at)),
            h("td", {}, v.retracted_at ? `withdrawn ${when(v.retracted_at)}` : "live"))),
          {id: "votes"})
      : h("p", {class: "muted", id: "votes-none"}, "Nobody has said anything about this message yet.")]);
}

async function rerender(root, ctx, path) {
  while (root.firstChild) root.firstChild.remove();
  await render(root, ctx, {path});
}
