// Conflicts: messages users disagree about. Training leaves them out until a vote is
// withdrawn (or changed); nothing settles one by speaking last.

import {api, get} from "./api.js";
import {badge, h, table, when} from "./dom.js";

export async function render(root, ctx) {
  const {conflicts} = await get("/v1/conflicts");
  const withdraw = async (vote) => {
    try {
      await api("DELETE", `/v1/feedback/${encodeURIComponent(vote.event_id)}`);
      await again(root, ctx);
      ctx.notify(`Withdrew ${vote.voter}'s ${vote.label} vote.`);
    } catch (error) {
      ctx.notify(`Withdrawing failed: ${error.message}`, true);
    }
  };
  root.append(h("h1", {}, "Conflicts"),
    h("p", {class: "muted"}, "Voters disagree about these messages, so the filter learns " +
      "nothing from them. Withdraw the vote that is wrong to settle one."),
    conflicts.length
      ? table([["Message"], ["Votes"], ["Last change"]], conflicts.map((c) =>
          h("tr", {class: "row", "data-message": c.message_id},
            h("td", {class: "subject"}, c.classification_id
              ? h("a", {href: `#/message/${encodeURIComponent(c.classification_id)}`}, c.subject || "(no subject)")
              : c.subject || "(no subject)"),
            h("td", {}, c.votes.map((v) => h("div", {class: "actions"}, badge(v.label), v.voter,
              ctx.can("feedback") ? h("button", {type: "button", class: "plain withdraw",
                                                 onclick: () => withdraw(v)}, "Withdraw") : null))),
            h("td", {class: "nowrap"}, when(c.updated_at)))), {id: "conflicts"})
      : h("p", {class: "card muted", id: "conflicts-none"}, "No conflicts: every voter agrees."));
}

async function again(root, ctx) {
  while (root.firstChild) root.firstChild.remove();
  await render(root, ctx);
}
