// Models: the registry's versions with their test metrics; activate one (roll forward
// or back) after a confirmation step. Admin scope.

import {api, get} from "./api.js";
import {h, percent, table, when} from "./dom.js";

const SHOWN = [["fpr", "ham marked spam", percent], ["fnr", "spam missed", percent],
               ["roc_auc", "ROC AUC", (x) => (typeof x === "number" ? x.toFixed(5) : "")],
               ["n", "test messages", (x) => x ?? ""]];

export async function render(root, ctx) {
  if (!ctx.can("admin")) {
    root.append(h("h1", {}, "Models"),
                h("p", {class: "notice bad"}, "Models need a key with the admin scope."));
    return;
  }
  const data = await get("/v1/models");
  const order = data.versions.map((v) => v.version);
  const activeAt = order.indexOf(data.active);

  const confirmBox = h("div", {id: "confirm", hidden: true});
  const ask = (version) => {
    const back = activeAt >= 0 && order.indexOf(version) < activeAt;
    confirmBox.hidden = false;
    confirmBox.replaceChildren(h("div", {class: "card confirm"},
      h("p", {}, h("b", {}, `${back ? "Roll back" : "Activate"} to ${version}?`),
        ` The server serves ${data.serving} now; every process on this registry switches to ` +
        `${version} at its next poll. Requests in flight finish on the model they started with.`),
      h("div", {class: "actions"},
        h("button", {type: "button", id: "confirm-activate", onclick: async (event) => {
          event.target.disabled = true;
          try {
            const r = await api("POST", `/v1/models/${encodeURIComponent(version)}/activate`);
            await again(root, ctx);
            ctx.notify(`Now serving ${r.version} (was ${r.previous}).`);
          } catch (error) {
            await again(root, ctx);
            ctx.notify(`Activating ${version} failed: ${error.message}`, true);
          }
        }}, `Yes, ${back ? "roll back" : "activate"}`),
        h("button", {type: "button", class: "plain", id: "cancel-activate",
                     onclick: () => { confirmBox.hidden = true; }}, "Cancel"))));
    confirmBox.scrollIntoView({block: "nearest"});
  };

  const rows = data.versions.slice().reverse().map((v) => h("tr", {class: "row model-row",
                                                                     "data-version": v.version},
    h("td", {}, h("b", {}, v.version), " ",
      v.is_active ? h("span", {class: "badge info"}, "active") : null, " ",
      v.version === data.serving ? h("span", {class: "badge ham"}, "serving") : null),
    h("td", {class: "nowrap"}, v.created ? when(v.created) : ""),
    SHOWN.map(([key, , fmt]) => h("td", {class: "num"}, fmt(v.metrics[key]))),
    h("td", {}, v.problem ? h("span", {class: "error"}, v.problem)
      : v.is_active ? h("span", {class: "muted"}, "—")
      : h("button", {type: "button", class: "plain activate", "data-version": v.version,
                     onclick: () => ask(v.version)},
          activeAt >= 0 && order.indexOf(v.version) < activeAt ? "Roll back…" : "Activate…"))));

  root.append(h("h1", {}, "Models"),
    h("p", {class: "muted"}, "Newest first. Metrics are each version's held-out test " +
      "results, as recorded when it was trained."),
    confirmBox,
    data.versions.length
      ? table([["Version"], ["Created"], ...SHOWN.map(([, label]) => [label, "num"]), [""]], rows,
              {id: "models"})
      : h("p", {class: "card muted"}, "This server serves a fixed model: no versions to choose."));
}

async function again(root, ctx) {
  while (root.firstChild) root.firstChild.remove();
  await render(root, ctx);
}
