// symparams serve: the page. The server derives the model once (symparams/serve/document.py); this
// file evaluates its closed forms, compiled to small JSON trees (compile.py), at every slider move,
// exactly: rationals of BigInts, never floats. No library, no eval, nothing fetched but this
// server's own JSON.
"use strict";

// ------------------------------------------------------------------ exact rationals
// A number is a BigInt (a whole number) or {n, d} with d > 1n and gcd(n, d) = 1.

class Undefined extends Error {}

function gcd(a, b) {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b) { [a, b] = [b, a % b]; }
  return a;
}
function rat(n, d) {
  if (d === 0n) throw new Undefined("division by zero");
  if (d < 0n) { n = -n; d = -d; }
  if (d === 1n) return n;
  const g = gcd(n, d);
  return g === 1n ? { n, d } : (d / g === 1n ? n / g : { n: n / g, d: d / g });
}
const num = (x) => (typeof x === "bigint" ? x : x.n);
const den = (x) => (typeof x === "bigint" ? 1n : x.d);
function add(a, b) {
  if (typeof a === "bigint" && typeof b === "bigint") return a + b;
  return rat(num(a) * den(b) + num(b) * den(a), den(a) * den(b));
}
function mul(a, b) {
  if (typeof a === "bigint" && typeof b === "bigint") return a * b;
  return rat(num(a) * num(b), den(a) * den(b));
}
function pow(a, k) {
  if (k >= 0n) return typeof a === "bigint" ? a ** k : rat(a.n ** k, a.d ** k);
  if (num(a) === 0n) throw new Undefined("division by zero");
  return rat(den(a) ** -k, num(a) ** -k);
}
function floorDiv(n, d) {  // d > 0
  const q = n / d;
  return (n % d !== 0n && n < 0n) ? q - 1n : q;
}
function floor(a) { return typeof a === "bigint" ? a : floorDiv(a.n, a.d); }
function ceil(a) { return typeof a === "bigint" ? a : -floorDiv(-a.n, a.d); }
function cmp(a, b) {
  const l = num(a) * den(b), r = num(b) * den(a);
  return l < r ? -1 : (l > r ? 1 : 0);
}
function mod(a, b) {
  if (num(b) === 0n) throw new Undefined("modulo zero");
  // a - b*floor(a/b)
  const q = floor(rat(num(a) * den(b), den(a) * num(b)));
  return add(a, mul(mul(b, q), -1n));
}
const RELATIONS = { "==": (c) => c === 0, "!=": (c) => c !== 0, "<": (c) => c < 0, "<=": (c) => c <= 0,
                    ">": (c) => c > 0, ">=": (c) => c >= 0 };

// A tree's value: a number, a boolean, or null where a symbol it needs has no value.
function ev(t, vals) {
  if (typeof t === "string") return BigInt(t);
  const op = t[0];
  switch (op) {
    case "s": { const v = vals[t[1]]; return v === undefined ? null : v; }
    case "q": return rat(BigInt(t[1]), BigInt(t[2]));
    case "true": return true;
    case "false": return false;
    case "pw":
      for (let i = 1; i < t.length; i++) {
        const c = ev(t[i][0], vals);
        if (c === null) return null;
        if (c) return ev(t[i][1], vals);
      }
      throw new Undefined("no case of a piecewise size holds");
    case "and": case "or": {
      let unknown = false;
      for (let i = 1; i < t.length; i++) {
        const c = ev(t[i], vals);
        if (c === null) unknown = true;
        else if (op === "and" && !c) return false;
        else if (op === "or" && c) return true;
      }
      return unknown ? null : op === "and";
    }
    case "not": { const c = ev(t[1], vals); return c === null ? null : !c; }
    case "^": { const b = ev(t[1], vals); return b === null ? null : pow(b, BigInt(t[2])); }
  }
  const xs = [];
  for (let i = 1; i < t.length; i++) {
    const x = ev(t[i], vals);
    if (x === null) return null;
    xs.push(x);
  }
  switch (op) {
    case "+": return xs.reduce(add);
    case "*": return xs.reduce(mul);
    case "floor": return floor(xs[0]);
    case "ceil": return ceil(xs[0]);
    case "mod": return mod(xs[0], xs[1]);
    case "abs": return cmp(xs[0], 0n) < 0 ? mul(xs[0], -1n) : xs[0];
    case "min": return xs.reduce((a, b) => (cmp(a, b) <= 0 ? a : b));
    case "max": return xs.reduce((a, b) => (cmp(a, b) >= 0 ? a : b));
  }
  if (op in RELATIONS) return RELATIONS[op](cmp(xs[0], xs[1]));
  throw new Error("unknown operation " + op);
}

// ------------------------------------------------------------------ printing, as the CLI prints

function grouped(n) {  // 124439808n -> "124,439,808"
  const neg = n < 0n, s = (neg ? -n : n).toString();
  return (neg ? "-" : "") + s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
function numberText(v) {
  if (v === null || v === undefined) return "?";
  if (typeof v === "bigint") return grouped(v);
  if (typeof v === "object") return v.n + "/" + v.d;
  return String(v);
}
function twoDecimals(n, d) {  // '%.2f' of n/d >= 0, rounding half to even as Python's format of an exact float
  let cents = (n * 100n) / d;
  const rest = (n * 100n) % d;
  if (rest * 2n > d || (rest * 2n === d && cents % 2n === 1n)) cents += 1n;
  const s = cents.toString().padStart(3, "0");
  return s.slice(0, -2) + "." + s.slice(-2);
}
function readableSize(bytes) {  // Keras's '30.66 KB' (printing.readable_size)
  const units = ["B", "KB", "MB", "GB", "TB"];
  let d = 1n;
  for (const u of units) {
    if (bytes < d * 1024n) return twoDecimals(bytes, d) + " " + u;
    d *= 1024n;
  }
  return twoDecimals(bytes, d) + " PB";
}

// ------------------------------------------------------------------ state

const S = {
  sources: [], source: 0, model: "", convention: "",
  doc: null, version: null, given: {}, options: {}, expand: false, macs: false,
  solved: null, stale: false, lastUpdateMs: 0, updates: 0, rows: [], cells: null,
};
window.__symparams = S;   // the tests and the benchmark read it
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
  return e;
}

// ------------------------------------------------------------------ loading

async function getJSON(url, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" },
                                           body: JSON.stringify(body) };
  const r = await fetch(url, init);
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

function modelURL() {
  const q = new URLSearchParams({ source: S.source });
  if (S.model) q.set("model", S.model);
  if (S.convention) q.set("convention", S.convention);
  if (Object.keys(S.options).length) q.set("options", JSON.stringify(S.options));
  return "/api/model?" + q;
}

async function start() {
  const listing = await getJSON("/api/sources");
  S.sources = listing.sources;
  const pick = $("source");
  for (const s of S.sources) pick.append(el("option", { value: s.index, text: s.label }));
  $("source-pick").hidden = S.sources.length < 2;
  pick.onchange = () => { S.source = +pick.value; S.model = ""; S.given = {}; S.solved = null; load(); };
  $("model").onchange = () => { S.model = $("model").value; S.given = {}; S.solved = null; load(); };
  $("convention").onchange = () => { S.convention = $("convention").value; load(); };
  $("expand").onchange = () => { S.expand = $("expand").checked; buildTable(); update(); };
  $("show-macs").onchange = () => { S.macs = $("show-macs").checked; buildTable(); update(); };
  $("reset-all").onclick = () => { S.given = {}; syncInputs(); update(); };
  $("solve-go").onclick = solve;
  $("solve-use").onclick = () => {
    if (S.solved && S.solved.x !== null) { setSymbol(S.solved.symbol, S.solved.x); }
  };
  for (const id of ["plot-of", "plot-symbol", "plot-from", "plot-to", "plot-logx", "plot-logy"]) {
    $(id).addEventListener(id.startsWith("plot-log") ? "change" : "input", () => {
      if (id === "plot-symbol") plotRange(true);
      drawPlot();
    });
  }
  $("plot-svg").onclick = () => download("svg");
  $("plot-png").onclick = () => download("png");
  await load();
  setInterval(poll, 800);
}

async function load() {
  let answer;
  try {
    answer = await getJSON(modelURL());
  } catch (e) {
    status("the server does not answer: " + e.message);
    return;
  }
  if (answer.error) {
    if (answer.error.kind === "argument error" && Object.keys(S.options).length && S.doc) {
      showOptionsError(answer.error);     // an option refused: the last figures stay
      return;
    }
    showFileError(answer.error);
    return;
  }
  showOptionsError(null);
  $("file-error").hidden = true;
  $("page").classList.remove("stale");
  S.stale = false;
  const doc = answer.document;
  const fresh = !S.doc || S.doc.model !== doc.model || S.doc.source !== doc.source;
  S.doc = doc;
  S.version = doc.version;
  for (const name of Object.keys(S.given)) {
    if (!doc.symbols.some((s) => s.name === name)) delete S.given[name];
  }
  render(fresh);
  status("loaded " + new Date().toLocaleTimeString());
}

async function poll() {
  try {
    const v = await getJSON("/api/version?source=" + S.source);
    if (v.version !== S.version) { S.version = v.version; await load(); }
  } catch (e) {
    status("the server stopped");
  }
}

function status(text) { $("status").textContent = text; }

function showFileError(err) {
  const box = $("file-error");
  box.hidden = false;
  const where = err.line ? `line ${err.line}, column ${err.column}` : "";
  box.querySelector(".error-head").textContent = `${err.kind}${where ? " at " + where : ""}: ${err.message}`;
  box.querySelector(".error-text").textContent = err.text || err.message;
  box.querySelector(".error-note").textContent = S.doc
    ? "The page shows the last version that loaded; it reloads when the file is saved."
    : "The page loads the model when the file is saved.";
  box.dataset.line = err.line || "";
  box.dataset.hint = err.hint || "";
  if (S.doc) { $("page").classList.add("stale"); S.stale = true; }
}

function showOptionsError(err) {
  const box = $("options-error");
  box.hidden = !err;
  box.textContent = err ? err.text || err.message : "";
  if (err) $("options-panel").open = true;
}

// ------------------------------------------------------------------ building the page

function render(fresh) {
  const doc = S.doc;
  $("page").hidden = false;
  $("model-name").textContent = doc.model;
  const mp = $("model");
  mp.replaceChildren(...doc.models.map((m) => el("option", { value: m, text: m })));
  mp.value = doc.model;
  $("model-pick").hidden = doc.models.length < 2;
  buildSymbols();
  buildOptions();
  buildTable();
  buildTotals();
  buildQuantities();
  buildSolve(fresh);
  buildPlotControls(fresh);
  update();
}

function formulaOf(i) { return S.doc.formulas[i]; }

function copyText(text, what) {
  const done = () => toast(what + " copied");
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
  } else fallbackCopy(text, done);
  S.copied = text;
}
function fallbackCopy(text, done) {
  const area = el("textarea", {});
  area.value = text;
  document.body.append(area);
  area.select();
  try { document.execCommand("copy"); } catch (e) { /* the text stays selectable */ }
  area.remove();
  done();
}
let toastTimer = null;
function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 1200);
}

// A formula: typeset (MathML) where the server could, else its text; buttons copy it as LaTeX and text.
function formulaNode(i, plain) {
  const f = formulaOf(i);
  const box = el("span", { class: "formula", "data-text": f.text, title: f.text });
  if (f.mathml && !plain) {
    const m = el("span", { class: "math" });
    m.innerHTML = '<math display="inline">' + f.mathml + "</math>";   // checked server-side: MathML tags only
    box.append(m);
  } else {
    box.append(el("code", { text: f.text }));
  }
  const tex = el("button", { type: "button", title: "copy as LaTeX", class: "copy-latex", text: "TeX" });
  tex.onclick = () => copyText(f.latex, "LaTeX");
  const txt = el("button", { type: "button", title: "copy as text", class: "copy-text", text: "txt" });
  txt.onclick = () => copyText(f.text, "text");
  box.append(el("span", { class: "copy" }, tex, txt));
  return box;
}

function isNumber(i) { return typeof formulaOf(i).tree === "string"; }

function buildSymbols() {
  const box = $("symbols");
  box.replaceChildren();
  S.inputs = {};
  for (const s of S.doc.symbols) {
    const range = el("input", { type: "range", min: s.min, max: s.max, step: 1, "aria-label": s.name,
                                "data-symbol": s.name });
    const box2 = el("input", { type: "number", min: 1, step: 1, "aria-label": s.name + " value",
                               "data-symbol": s.name });
    const reset = el("button", { type: "button", class: "sym-reset", title: "back to the default", text: "default" });
    const step = el("span", { class: "sym-step" });
    const why = el("div", { class: "sym-why refusal", hidden: true });
    const row = el("div", { class: "sym", "data-symbol": s.name },
      el("div", { class: "sym-head" }, el("span", { class: "sym-name", text: s.name }),
         el("span", { class: "sym-follows", text: s.follows ? "= " + s.follows : (s.default === null ? "no default" : "") }),
         step, reset),
      el("div", { class: "sym-row" }, range, box2), why);
    range.addEventListener("input", () => { S.given[s.name] = range.value; box2.value = range.value; update(); });
    box2.addEventListener("input", () => {
      if (box2.value === "") { delete S.given[s.name]; } else { S.given[s.name] = box2.value; }
      update();
    });
    reset.onclick = () => { delete S.given[s.name]; update(); };
    S.inputs[s.name] = { range, box: box2, row, step, why, reset };
    box.append(row);
  }
}

function syncInputs() {  // the sliders and boxes show the values in force
  for (const s of S.doc.symbols) {
    const inp = S.inputs[s.name];
    const v = S.current.vals[s.name];
    const given = s.name in S.given;
    if (document.activeElement !== inp.box) inp.box.value = given ? S.given[s.name] : (v === undefined ? "" : String(v));
    let step = 1n;
    for (const f of s.step) {
      let d = null;
      try { d = ev(formulaOf(f).tree, S.current.vals); } catch (e) { d = null; }
      if (typeof d === "bigint" && d > 0n) step = step * d / gcd(step, d);
    }
    inp.step.textContent = step > 1n ? "× " + step : "";
    // the slider moves over the allowed values: multiples of the divisors its rules name
    inp.range.step = step.toString();
    const low = BigInt(s.min);
    inp.range.min = (((low + step - 1n) / step) * step).toString();   // the least allowed multiple
    const shown = given ? Number(S.given[s.name]) : (v === undefined ? s.min : Number(v));
    if (shown > Number(inp.range.max)) inp.range.max = String(shown);
    if (document.activeElement !== inp.range) inp.range.value = String(shown);
    inp.reset.hidden = !given;
    inp.row.classList.toggle("bad", S.current.badSymbol === s.name);
  }
}

function setSymbol(name, value) {  // for the solve panel's "use it", and the tests
  S.given[name] = String(value);
  update();
}
S.setSymbol = setSymbol;

function buildOptions() {
  const box = $("options");
  if (box.childElementCount) return;    // built once: the controls keep their values across reloads
  for (const o of S.doc.options) {
    let input;
    if (o.kind === "flag") input = el("input", { type: "checkbox" });
    else if (o.choices) {
      input = el("select", {}, el("option", { value: "", text: "(default)" }),
                 ...o.choices.map((c) => el("option", { value: c, text: c })));
    } else input = el("input", { type: o.kind === "names" ? "text" : "number", min: 1, placeholder: String(o.default ?? "") });
    input.dataset.option = o.name;
    input.addEventListener("change", () => {
      const v = o.kind === "flag" ? input.checked : input.value;
      if (v === "" || v === false) delete S.options[o.name]; else S.options[o.name] = v;
      load();
    });
    box.append(el("label", { title: o.help }, el("span", { text: o.flag }), input));
  }
}

function buildTable() {
  const t = $("table");
  const heads = [["Layer (type)", ""], ["Output Shape", ""], ["Param #", "num"]];
  if (S.macs) heads.push(["MACs", "num"]);
  t.classList.toggle("macs", S.macs);
  t.replaceChildren(el("thead", {}, el("tr", {}, ...heads.map(([h, c]) => el("th", { class: c, text: h })))));
  const body = el("tbody", {});
  S.rows = [];
  for (const r of S.doc.rows) {
    if (!S.expand && r.depth > 0) continue;
    const label = S.expand ? r.label : r.top_label;
    const labelCell = el("td", { class: "label" }, "\u00a0\u00a0".repeat(r.depth) + label,
                         r.note ? el("span", { class: "note", text: "  (" + r.note + ")" }) : null);
    const shapeValue = el("div", { class: "value" });
    const shapeFormula = el("div", { class: "formula" }, el("code", { text: r.shape_text }));
    const cells = { shape: shapeValue, shapeFormula };
    const paramsValue = el("div", { class: "value" });
    const tr = el("tr", { "data-path": r.path }, labelCell, el("td", { class: "shape" }, shapeValue, shapeFormula),
                  el("td", { class: "num" }, paramsValue, countFormula(r.params, r.arithmetic)));
    cells.params = paramsValue;
    if (S.macs) {
      const macsValue = el("div", { class: "value" });
      // (a layer's MACs it says are not known: no figure, and why not in place of the formula)
      tr.append(el("td", { class: "num" }, macsValue, r.macs === null
        ? el("div", { class: "formula" }, el("code", { text: "not known" })) : countFormula(r.macs, null)));
      cells.macs = macsValue;
    }
    body.append(tr);
    S.rows.push({ r, cells });
  }
  t.append(body);
}

function countFormula(i, arithmetic) {
  if (isNumber(i)) return arithmetic ? el("div", { class: "formula" }, el("code", { text: arithmetic })) : null;
  return formulaNode(i);
}

function buildTotals() {
  const box = $("totals");
  box.replaceChildren();
  S.totals = [];
  for (const t of S.doc.totals) {
    const value = el("span", { class: "value" });
    const line = el("div", { class: "total", "data-key": t.key }, el("div", {}, t.label + ": ", value),
                    isNumber(t.f) ? el("span") : formulaNode(t.f));
    box.append(line);
    S.totals.push({ t, value });
  }
  const assumes = $("assumes");
  assumes.replaceChildren(...S.doc.constraints.map((c) => el("div", { class: "value", text: "Assumes: " + c.text })));
}

function quantityValueText(q, v) {
  if (v === null) return "?";
  if (typeof v !== "bigint") return numberText(v) + " (not a whole number)";
  if (q.unit === "bytes") return grouped(v) + " bytes (" + readableSize(v) + ")";
  return grouped(v);
}

function buildQuantities() {
  const box = $("llm");
  box.replaceChildren();
  S.quantities = [];
  $("llm-panel").hidden = !S.doc.quantities.length;
  for (const q of S.doc.quantities) {
    const value = el("span", { class: "qvalue" });
    const counted = [q.dtype, q.rule].filter(Boolean).join(", ");
    const refusal = el("div", { class: "qrefused refusal", hidden: true });
    const line = el("div", { class: "quantity", "data-name": q.name },
      el("div", { class: "qname", title: q.help, text: q.name }, el("span", { class: "qmeta", text: counted })),
      value, formulaNode(q.f), refusal);
    const parts = q.parts.map((p) => {
      const pv = el("span", { class: "value" });
      line.append(el("div", { class: "qpart" }, el("div", {}, p.name + ": ", pv), formulaNode(p.f)));
      return { p, value: pv };
    });
    box.append(line);
    S.quantities.push({ q, value, parts, refusal, line });
  }
}

function fillSelect(sel, items, keep) {
  const old = sel.value;
  sel.replaceChildren(...items.map(([v, t]) => el("option", { value: v, text: t })));
  if (keep && items.some(([v]) => v === old)) sel.value = old;
}

function buildSolve(fresh) {
  const syms = S.doc.symbols.map((s) => [s.name, s.name]);
  fillSelect($("solve-symbol"), syms, !fresh);
  fillSelect($("solve-of"), S.doc.offered.map((q) => [q.name, q.name]), !fresh);
  if (fresh) {
    const d = S.doc.symbols.find((s) => s.name === "d");
    if (d) $("solve-symbol").value = "d";
    $("solve-result").textContent = "";
    $("solve-use").hidden = true;
  }
}

function buildPlotControls(fresh) {
  fillSelect($("plot-of"), S.doc.offered.map((q) => [q.name, q.name]), !fresh);
  fillSelect($("plot-symbol"), S.doc.symbols.map((s) => [s.name, s.name]), !fresh);
  if (fresh) {
    const d = S.doc.symbols.find((s) => s.name === "d");
    if (d) $("plot-symbol").value = "d";
    plotRange(true);
  }
}

function plotRange(reset) {
  const s = S.doc.symbols.find((x) => x.name === $("plot-symbol").value);
  if (!s) return;
  if (reset || !$("plot-from").value) { $("plot-from").value = s.min; $("plot-to").value = s.max; }
}

// ------------------------------------------------------------------ one setting: resolve, check, evaluate

// The symbols' values: the ones given, then each default (which may follow other symbols), as
// Model.assignments resolves them; a value that is not a positive whole number is refused.
function resolve(given) {
  const vals = {};
  const doc = S.doc;
  for (const s of doc.symbols) {
    if (s.name in given) {
      const text = String(given[s.name]).trim();
      if (!/^[0-9]+$/.test(text) || BigInt(text) < 1n) {
        return { vals, refusal: `${s.name} must be a positive whole number, found ${text || "nothing"}`, badSymbol: s.name };
      }
      vals[s.name] = BigInt(text);
    }
  }
  let pending = doc.symbols.filter((s) => !(s.name in vals) && s.default !== null);
  for (let pass = 0; pass <= doc.symbols.length && pending.length; pass++) {
    const still = [];
    for (const s of pending) {
      let v;
      try { v = ev(formulaOf(s.default).tree, vals); } catch (e) { v = undefined; }
      if (v === null) { still.push(s); continue; }
      if (v === undefined || typeof v !== "bigint" || v < 1n) {
        return { vals, refusal: `${s.name} must be a positive whole number, found ${v === undefined ? "an undefined value" : numberText(v)}`,
                 badSymbol: s.name };
      }
      vals[s.name] = v;
    }
    if (still.length === pending.length) break;
    pending = still;
  }
  return { vals, refusal: null };
}

// The first rule a setting breaks, in the words `symparams summary --set` refuses it with; null if none.
function refusalAt(vals) {
  const doc = S.doc;
  for (const c of doc.constraints) {
    if (!c.cond) continue;
    let ok;
    try { ok = ev(c.cond, vals); } catch (e) { return `${c.text}: undefined at these values (it divides by zero)`; }
    if (ok === false) {
      const at = c.symbols.filter((n) => n in vals).map((n) => `${n}=${vals[n]}`).join(", ");
      return `${c.text}, which does not hold at ${at}`;
    }
  }
  for (const k of doc.checks) {
    let v;
    try { v = ev(formulaOf(k.f).tree, vals); } catch (e) { return `${k.what}: size ${k.dim} is undefined at these values`; }
    if (v === null) continue;
    if (k.input) {
      if (typeof v !== "bigint" || v < 1n) {
        return `${k.what} has size ${numberText(v)} on axis ${k.axis} at these values; every size must be a whole number >= 1`;
      }
    } else if (typeof v !== "bigint") {
      return `${k.what}: size ${k.dim} of its output is ${numberText(v)}, not a whole number at these values`;
    } else if (v <= 0n) {
      return `${k.what}: its output ${k.shape} has size ${v} on axis ${k.axis} at these values; its input is too small for it`;
    }
  }
  return null;
}

function setting(given) {
  const r = resolve(given);
  if (!r.refusal) r.refusal = refusalAt(r.vals);
  r.cache = new Map();
  r.value = (i) => {   // formula i's value, once per setting; undefined figures are null
    if (r.cache.has(i)) return r.cache.get(i);
    const f = formulaOf(i);
    let v = null;
    if (f.tree !== null) { try { v = ev(f.tree, r.vals); } catch (e) { v = null; } }
    r.cache.set(i, v);
    return v;
  };
  return r;
}

function freeSymbols(t, out) {
  if (Array.isArray(t)) {
    if (t[0] === "s") out.add(t[1]);
    else for (const a of t.slice(1)) freeSymbols(a, out);
  }
  return out;
}

function shapeText(r, s) {
  const dims = ["None", ...r.shape.map((i) => { const v = s.value(i); return typeof v === "bigint" ? v.toString() : "?"; })];
  return dims.length === 1 ? `(${dims[0]},)` : "(" + dims.join(", ") + ")";
}

function update() {
  const t0 = performance.now();
  const s = setting(S.given);
  S.current = s;
  const refused = s.refusal !== null;
  const box = $("refusal");
  box.hidden = !refused;
  box.textContent = refused ? "refused: " + s.refusal + "\nnothing is computed at this setting" : "";
  $("main").classList.toggle("refused", refused);
  const doc = S.doc;
  const at = doc.symbols.filter((x) => x.name in s.vals).map((x) => `${x.name}=${s.vals[x.name]}`).join(", ");
  let title = `Model: "${doc.model}"   convention: ${doc.convention}`;
  if (doc.layout) title += "   " + doc.layout;
  if (at) title += "   at " + at;
  $("title").textContent = title;
  for (const { r, cells } of S.rows) {
    const shape = refused ? "—" : shapeText(r, s);
    if (cells.shape.textContent !== shape) cells.shape.textContent = shape;
    cells.shapeFormula.hidden = shape === r.shape_text;
    const p = refused ? "—" : numberText(s.value(r.params));
    if (cells.params.textContent !== p) cells.params.textContent = p;
    if (cells.macs) {
      const m = refused || r.macs === null ? "—" : numberText(s.value(r.macs));
      if (cells.macs.textContent !== m) cells.macs.textContent = m;
    }
  }
  for (const { t, value } of S.totals) {
    let text = "—";
    if (!refused) {
      const v = s.value(t.f);
      text = numberText(v);
      if (t.size && typeof v === "bigint") text += " (" + readableSize(4n * v) + ")";
      if (v === null) {        // as render.total_value says it: which symbols have no value
        const free = [...freeSymbols(formulaOf(t.f).tree, new Set())].filter((n) => !(n in s.vals)).sort();
        if (free.length) text += ` (${free.join(", ")} ${free.length === 1 ? "has" : "have"} no value)`;
      }
    }
    if (value.textContent !== text) value.textContent = text;
  }
  for (const { q, value, parts, refusal } of S.quantities) {
    let why = null;
    if (!refused) {
      for (const c of q.conditions) {
        let ok = null;
        try { ok = c.cond ? ev(c.cond, s.vals) : null; } catch (e) { ok = false; }
        if (ok === false) { why = c.text; break; }
      }
    }
    refusal.hidden = !why;
    refusal.textContent = why || "";
    const text = refused || why ? "—" : quantityValueText(q, s.value(q.f));
    if (value.textContent !== text) value.textContent = text;
    for (const part of parts) {
      const pt = refused || why ? "—" : quantityValueText(q, s.value(part.p.f));
      if (part.value.textContent !== pt) part.value.textContent = pt;
    }
  }
  syncInputs();
  schedulePlot();
  S.lastUpdateMs = performance.now() - t0;
  S.updates += 1;
}

// ------------------------------------------------------------------ solve

async function solve() {
  const budget = $("solve-budget").value.trim();
  const out = $("solve-result");
  if (!budget) { out.textContent = "give a budget, e.g. 350M"; return; }
  const body = { source: S.source, model: S.doc.model, convention: S.convention, options: S.options,
                 of: $("solve-of").value, symbol: $("solve-symbol").value, budget,
                 direction: $("solve-direction").value, multiple_of: $("solve-multiple").value || "1",
                 given: Object.fromEntries(Object.entries(S.given)) };
  out.textContent = "solving…";
  try {
    const answer = await getJSON("/api/solve", body);
    if (answer.error) {
      S.solved = null;
      out.textContent = answer.error.text || answer.error.message;
      $("solve-use").hidden = true;
    } else {
      S.solved = { ...answer.answer, of: body.of };
      out.textContent = answer.answer.text;
      $("solve-use").hidden = answer.answer.x === null;
      $("solve-use").textContent = answer.answer.x === null ? "" : `use ${answer.answer.symbol} = ${answer.answer.x}`;
      if (answer.answer.x !== null) {     // shown on the plot: the same quantity against the same symbol
        $("plot-of").value = body.of;
        if ($("plot-symbol").value !== body.symbol) { $("plot-symbol").value = body.symbol; plotRange(true); }
        const to = Number($("plot-to").value);
        if (answer.answer.x > to) $("plot-to").value = String(Math.ceil(answer.answer.x * 1.5));
      }
    }
  } catch (e) {
    out.textContent = "the server does not answer: " + e.message;
  }
  drawPlot();
}

// ------------------------------------------------------------------ plot

const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function samples(sym, lo, hi, logx, step) {
  const out = [];
  lo = Math.max(lo, 1);
  const first = Math.ceil(lo / step) * step;
  const count = Math.floor((hi - first) / step) + 1;
  if (count <= 0) return out;
  if (count <= 400) {
    for (let i = 0; i < count; i++) out.push(first + i * step);
    return out;
  }
  const seen = new Set();
  for (let i = 0; i < 400; i++) {
    const f = i / 399;
    const x = logx ? first * Math.pow(hi / first, f) : first + f * (hi - first);
    const v = Math.max(first, Math.round(x / step) * step);
    if (!seen.has(v) && v <= hi) { seen.add(v); out.push(v); }
  }
  return out;
}

function niceTicks(lo, hi, log) {
  if (log) {
    const out = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      const v = Math.pow(10, e);
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
    return out.length >= 2 ? out : [lo, hi];
  }
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / 5, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const stepv = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= 6);
  const out = [];
  for (let v = Math.ceil(lo / stepv) * stepv; v <= hi + stepv * 1e-9; v += stepv) out.push(v);
  return out;
}

function short(v) {
  const a = Math.abs(v);
  for (const [d, u] of [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]]) {
    if (a >= d) return +(v / d).toPrecision(3) + u;
  }
  return String(+v.toPrecision(4));
}

let plotPending = false;
function schedulePlot() {  // the plot follows on the next frame: many moves in one frame draw it once
  if (plotPending) return;
  plotPending = true;
  requestAnimationFrame(() => { plotPending = false; drawPlot(); });
}

function drawPlot() {
  const t0 = performance.now();
  drawPlotNow();
  S.lastPlotMs = performance.now() - t0;
}
S.drawPlot = drawPlot;

function drawPlotNow() {
  const box = $("plot");
  if (!S.doc) return;
  const q = S.doc.offered.find((x) => x.name === $("plot-of").value);
  const sym = $("plot-symbol").value;
  if (!q || !sym) { box.replaceChildren(); return; }
  const lo = Math.max(1, Number($("plot-from").value) || 1), hi = Math.max(lo, Number($("plot-to").value) || lo);
  const logx = $("plot-logx").checked, logy = $("plot-logy").checked;
  // the step a divisibility rule imposes at the other symbols' current values
  const s0 = S.current;
  const symDoc = S.doc.symbols.find((x) => x.name === sym);
  let step = 1;
  for (const f of symDoc ? symDoc.step : []) {
    let d = null;
    try { d = ev(formulaOf(f).tree, s0.vals); } catch (e) { d = null; }
    if (typeof d === "bigint" && d > 0n && d < 1000000n) step = step * Number(d) / Number(gcd(BigInt(step), d));
  }
  const xs = samples(sym, lo, hi, logx, step);
  const points = [];
  for (const x of xs) {
    const st = setting({ ...S.given, [sym]: String(x) });
    if (st.refusal) { points.push(null); continue; }
    let ok = true;
    for (const c of q.conditions) { try { if (c.cond && ev(c.cond, st.vals) === false) ok = false; } catch (e) { ok = false; } }
    const v = ok ? st.value(q.f) : null;
    points.push(typeof v === "bigint" && (!logy || v > 0n) ? [x, Number(v)] : null);
  }
  const good = points.filter(Boolean);
  const W = 860, H = 340, ml = 70, mr = 20, mt = 30, mb = 40;
  const root = svg("svg", { xmlns: SVGNS, viewBox: `0 0 ${W} ${H}`, width: W, height: H, "font-family": "sans-serif",
                            "font-size": "11", id: "plot-svg-root" });
  root.append(svg("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }));
  if (!good.length) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#6b7785" },
                    "no allowed value of " + sym + " in this range"));
    box.replaceChildren(root);
    S.plotPoints = 0;
    return;
  }
  let ylo = Math.min(...good.map((p) => p[1])), yhi = Math.max(...good.map((p) => p[1]));
  const budget = S.solved && S.solved.of === q.name && S.solved.symbol === sym ? Number(S.solved.budget) : null;
  if (budget !== null && (!logy || budget > 0)) { ylo = Math.min(ylo, budget); yhi = Math.max(yhi, budget); }
  if (!logy) ylo = Math.min(ylo, 0);
  if (ylo === yhi) { yhi = ylo + 1; }
  const xlo = xs[0], xhi = Math.max(xs[xs.length - 1], xlo + 1);
  const fx = (x) => ml + (W - ml - mr) * (logx ? Math.log(x / xlo) / Math.log(xhi / xlo || 2) : (x - xlo) / (xhi - xlo));
  const fy = (y) => H - mb - (H - mt - mb) * (logy ? Math.log(y / ylo) / Math.log(yhi / ylo || 2) : (y - ylo) / (yhi - ylo));
  const axes = svg("g", { stroke: "#9aa5b1", fill: "none" });
  axes.append(svg("line", { x1: ml, y1: H - mb, x2: W - mr, y2: H - mb }), svg("line", { x1: ml, y1: mt, x2: ml, y2: H - mb }));
  root.append(axes);
  for (const v of niceTicks(xlo, xhi, logx)) {
    const x = fx(v);
    root.append(svg("line", { x1: x, y1: H - mb, x2: x, y2: H - mb + 4, stroke: "#9aa5b1" }),
                svg("text", { x, y: H - mb + 16, "text-anchor": "middle", fill: "#39424c" }, short(v)));
  }
  for (const v of niceTicks(ylo, yhi, logy)) {
    const y = fy(v);
    root.append(svg("line", { x1: ml - 4, y1: y, x2: W - mr, y2: y, stroke: "#eef1f4" }),
                svg("text", { x: ml - 6, y: y + 4, "text-anchor": "end", fill: "#39424c" }, short(v)));
  }
  root.append(svg("text", { x: (ml + W - mr) / 2, y: H - 6, "text-anchor": "middle", fill: "#1d232b" },
                  sym + (logx ? " (log)" : "")),
              svg("text", { x: 8, y: 14, fill: "#1d232b" }, q.name + (q.unit === "bytes" ? " (bytes)" : "") +
                  (logy ? " (log)" : "")));
  let d = "", pen = false;
  for (const p of points) {
    if (!p) { pen = false; continue; }
    d += (pen ? "L" : "M") + fx(p[0]).toFixed(1) + "," + fy(p[1]).toFixed(1);
    pen = true;
  }
  root.append(svg("path", { d, fill: "none", stroke: "#2b6cb0", "stroke-width": 2, class: "curve" }));
  if (good.length < 60) {
    for (const p of good) root.append(svg("circle", { cx: fx(p[0]), cy: fy(p[1]), r: 2.5, fill: "#2b6cb0" }));
  }
  const now = s0.vals[sym];
  if (now !== undefined && Number(now) >= xlo && Number(now) <= xhi) {
    const x = fx(Number(now));
    root.append(svg("line", { x1: x, y1: mt, x2: x, y2: H - mb, stroke: "#718096", "stroke-dasharray": "3 3" }),
                svg("text", { x: x + 4, y: mt + 10, fill: "#4a5568" }, `${sym} = ${now}`));
  }
  if (budget !== null && (!logy || budget > 0)) {
    const y = fy(budget);
    root.append(svg("line", { x1: ml, y1: y, x2: W - mr, y2: y, stroke: "#c05621", "stroke-dasharray": "6 3", class: "budget" }),
                svg("text", { x: W - mr - 4, y: y - 4, "text-anchor": "end", fill: "#c05621" }, "budget " + short(budget)));
    const x = S.solved.x;
    if (x !== null && x >= xlo && x <= xhi && S.solved.value !== null) {
      root.append(svg("circle", { cx: fx(x), cy: fy(Number(S.solved.value)), r: 5, fill: "#c05621", class: "solved" }),
                  svg("text", { x: fx(x) + 7, y: fy(Number(S.solved.value)) + 14, fill: "#c05621" }, `${sym} = ${x}`));
    }
  }
  box.replaceChildren(root);
  S.plotPoints = good.length;
}

function download(kind) {
  const root = $("plot-svg-root");
  if (!root) return;
  const text = new XMLSerializer().serializeToString(root);
  const name = `${S.doc.model}-${$("plot-of").value}-${$("plot-symbol").value}`;
  const blob = new Blob([text], { type: "image/svg+xml" });
  S.lastDownload = { kind, svg: text };
  if (kind === "svg") return save(blob, name + ".svg");
  const img = new Image();
  const url = URL.createObjectURL(blob);
  img.onload = () => {
    const c = document.createElement("canvas");
    c.width = root.viewBox.baseVal.width * 2;
    c.height = root.viewBox.baseVal.height * 2;
    const g = c.getContext("2d");
    g.drawImage(img, 0, 0, c.width, c.height);
    URL.revokeObjectURL(url);
    c.toBlob((png) => save(png, name + ".png"), "image/png");
  };
  img.src = url;
}

function save(blob, name) {
  const a = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

document.addEventListener("DOMContentLoaded", start);
