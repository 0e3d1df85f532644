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
      h("p", {}, h("b", {}, back ? `Roll back to ${version}?` : `Activate ${version}?`),
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

  // A retrain's evaluation report: its decision and each model's figures on the slice
  // held back from training.
  const reportBox = h("div", {id: "report", hidden: true});
  const show = async (version) => {
    const r = await get(`/v1/models/${encodeURIComponent(version)}/report`);
    const figures = (m) => m ? SHOWN.map(([key, , fmt]) => h("td", {class: "num"}, fmt(m[key]))) : [];
    reportBox.hidden = false;
    reportBox.replaceChildren(h("div", {class: "card"},
      h("p", {}, h("b", {}, `Retrain report of ${version}: ${r.decision}. `), r.reason),
      table([["model"], ...SHOWN.map(([, label]) => [label, "num"])], [
        h("tr", {}, h("td", {}, "this version"), figures(r.challenger)),
        r.champion ? h("tr", {}, h("td", {}, `served then (${r.previous_version || "?"})`),
                       figures(r.champion)) : null]),
      h("details", {}, h("summary", {}, "the whole report"),
        h("pre", {}, JSON.stringify(r, null, 2))),
      h("button", {type: "button", class: "plain", onclick: () => { reportBox.hidden = true; }},
        "Close")));
  };

  const rows = data.versions.slice().reverse().map((v) => h("tr", {class: "row model-row",
                                                                     "data-version": v.version},
    h("td", {}, h("b", {}, v.version), " ",
      v.is_active ? h("span", {class: "badge info"}, "active") : null, " ",
      v.version === data.serving ? h("span", {class: "badge ham"}, "serving") : null),
    h("td", {class: "nowrap"}, v.created ? when(v.created) : ""),
    SHOWN.map(([key, , fmt]) => h("td", {class: "num"}, fmt(v.metrics[key]))),
    h("td", {}, v.report ? h("button", {type: "button", class: "plain report",
                                        "data-version": v.version, onclick: () => show(v.version)},
                             "Report") : null),
    h("td", {}, v.problem ? h("span", {class: "error"}, v.problem)
      : v.is_active ? h("span", {class: "muted"}, "—")
      : h("button", {type: "button", class: "plain activate", "data-version": v.version,
                     onclick: () => ask(v.version)},
          activeAt >= 0 && order.indexOf(v.version) < activeAt ? "Roll back…" : "Activate…"))));

  root.append(h("h1", {}, "Models"),
    h("p", {class: "muted"}, "Newest first. Metrics are each version's held-out test " +
      "results, as recorded when it was trained; a version made by spamsift retrain has " +
      "its evaluation report."),
    confirmBox,
    reportBox,
    data.versions.length
      ? table([["Version"], ["Created"], ...SHOWN.map(([, label]) => [label, "num"]), [""], [""]],
              rows,
              {id: "models"})
      : h("p", {class: "card muted"}, "This server serves a fixed model: no versions to choose."));
}

async function again(root, ctx) {
  while (root.firstChild) root.firstChild.remove();
  await render(root, ctx);
}
