// Building the page from elements and text nodes, never from markup strings: every
// string from the server (a spammer's subject, say) stays text.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(undefined, {year: "numeric", month: "short", day: "numeric",
                                      hour: "2-digit", minute: "2-digit", second: "2-digit"});
}

export function badge(verdict) {
  return h("span", {class: `badge ${verdict || "off"}`}, verdict || "none");
}

export function score(x) {
  return typeof x === "number" ? x.toFixed(3) : "";
}

export function percent(x, digits = 2) {
  return typeof x === "number" ? `${(100 * x).toFixed(digits)}%` : "";
}

export function table(headers, rows, attrs = {}) {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, headers.map(([label, cls]) => h("th", {class: cls}, label)))),
    h("tbody", {}, rows));
}
