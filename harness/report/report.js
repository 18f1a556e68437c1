"use strict";
// The report's filters, cell grid and target matrix. Data comes from the JSON island and is written with
// textContent / setAttribute only, never parsed as HTML.
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const N = D.names, O = D.outcomes, S = D.statuses, FLAKY = S.indexOf("flaky");
  // a target row: [cell, arch, task, method, property, status, counts by outcome, signature indices, failing case
  // ids]; the last two are left out when empty, and trailing zero counts too (a missing count is none)
  const CELL = 0, ARCH = 1, TASK = 2, METHOD = 3, PROPERTY = 4, STATUS = 5, COUNTS = 6, SIGS = 7, CASES = 8;
  const SELECTS = [["cell", CELL, "cells"], ["task", TASK, "tasks"], ["method", METHOD, "methods"],
                   ["property", PROPERTY, "properties"]];
  const MAX_ROWS = 150;  // matrix rows drawn before "show all"
  const DEFAULTS = {cell: -1, task: -1, method: -1, property: -1, outcome: "", arch: "", allRows: false};
  const F = Object.assign({}, DEFAULTS);  // the filters; the page's query string holds them too (?method=…)
  const archLower = N.arch.map(function (a) { return a.toLowerCase(); });
  const fmt = new Intl.NumberFormat("en");

  function el(tag, attrs) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    for (let i = 2; i < arguments.length; i++) if (arguments[i] != null) node.append(arguments[i]);
    return node;
  }
  function quote(word) {  // as Python's shlex.quote: one word for a POSIX shell
    if (!word) return "''";
    return /^[A-Za-z0-9_@%+=:,.\/-]+$/.test(word) ? word : "'" + word.replace(/'/g, "'\"'\"'") + "'";
  }
  function repro(cell, caseId) { return "tox -e " + quote(cell) + " -- repro " + quote(caseId); }  // model.repro
  function badge(status, text) { return el("span", {class: "st s-" + status, text: D.symbols[status] + " " + text}); }
  function worstOutcome(counts) {  // the status index needing most attention among outcomes with verdicts
    let best = S.length;
    counts.forEach(function (n, j) { if (n) best = Math.min(best, S.indexOf(O[j])); });
    return best;
  }
  function countBadges(counts) {
    const span = el("span");
    S.forEach(function (status) {
      const j = O.indexOf(status);
      if (j >= 0 && counts[j]) span.append(badge(status, fmt.format(counts[j]) + " " + status), " ");
    });
    return span;
  }

  // --- filters
  function keep(t, anyCell) {
    if (!anyCell && F.cell >= 0 && t[CELL] !== F.cell) return false;
    if (F.task >= 0 && t[TASK] !== F.task) return false;
    if (F.method >= 0 && t[METHOD] !== F.method) return false;
    if (F.property >= 0 && t[PROPERTY] !== F.property) return false;
    if (F.arch && !archLower[t[ARCH]].includes(F.arch)) return false;
    if (F.outcome === "flaky") return t[STATUS] === FLAKY;
    return !F.outcome || t[COUNTS][O.indexOf(F.outcome)] > 0;
  }
  function shownCounts(t) {  // with an outcome filter, only that outcome's verdicts count
    if (!F.outcome || F.outcome === "flaky") return t[COUNTS];
    const j = O.indexOf(F.outcome);
    return t[COUNTS].map(function (n, i) { return i === j ? n : 0; });
  }
  const controls = {};  // filter → its <select> or <input>
  function buildFilters() {
    const bar = document.getElementById("filters");
    for (const [part, , plural] of SELECTS) {
      const select = controls[part] = el("select", {"aria-label": part}, el("option", {value: "-1", text: "all " + plural}));
      N[part].forEach(function (name, i) { select.append(el("option", {value: String(i), text: name || "(none)"})); });
      select.addEventListener("change", function () { F[part] = Number(select.value); apply(); });
      bar.append(el("label", {}, part + " ", select));
    }
    const outcome = controls.outcome = el("select", {"aria-label": "outcome"}, el("option", {value: "", text: "any outcome"}));
    S.forEach(function (status) { outcome.append(el("option", {value: status, text: status})); });
    outcome.addEventListener("change", function () { F.outcome = outcome.value; apply(); });
    bar.append(el("label", {}, "outcome ", outcome));
    const arch = controls.arch = el("input", {type: "search", placeholder: "arch contains…", "aria-label": "arch"});
    arch.addEventListener("input", function () { F.arch = arch.value.trim().toLowerCase(); apply(); });
    bar.append(el("label", {}, "arch ", arch));
    const reset = el("button", {type: "button", text: "reset"});
    reset.addEventListener("click", function () { Object.assign(F, DEFAULTS); showFilters(); apply(); });
    bar.append(reset, el("span", {class: "count", id: "match-count"}));
  }
  function showFilters() {  // the controls show F
    for (const [part] of SELECTS) controls[part].value = String(F[part]);
    controls.outcome.value = F.outcome;
    controls.arch.value = F.arch;
  }
  function readQuery() {  // ?cell=…&task=…&method=…&property=…&outcome=…&arch=… (names; unknown ones are ignored)
    const query = new URLSearchParams(location.search);
    for (const [part] of SELECTS) if (query.has(part)) F[part] = N[part].indexOf(query.get(part));
    if (S.includes(query.get("outcome"))) F.outcome = query.get("outcome");
    F.arch = (query.get("arch") || "").trim().toLowerCase();
    showFilters();
  }
  function writeQuery() {  // so that a filtered view can be bookmarked or sent
    const query = new URLSearchParams();
    for (const [part] of SELECTS) if (F[part] >= 0) query.set(part, N[part][F[part]]);
    if (F.outcome) query.set("outcome", F.outcome);
    if (F.arch) query.set("arch", F.arch);
    const search = query.toString();
    try {
      history.replaceState(null, "", location.pathname + (search ? "?" + search : "") + location.hash);
    } catch (error) { /* some browsers refuse it for file:// pages; the filters still work */ }
  }
  const FILTERED = Array.from(document.querySelectorAll(".f"));
  function tokens(value) { return value ? value.split(" ") : []; }
  function applyStatic() {  // the server-rendered rows and signatures carry their key indices in data-*
    for (const node of FILTERED) {
      let show = SELECTS.every(function ([part]) {
        return F[part] < 0 || tokens(node.dataset[part]).includes(String(F[part]));
      });
      if (show && F.arch) show = tokens(node.dataset.arch).some(function (i) { return archLower[i].includes(F.arch); });
      if (show && F.outcome) show = tokens(node.dataset.outcome).includes(F.outcome);
      node.hidden = !show;
    }
  }

  // --- grid of cells, placed by their (transformers, peft) versions
  function renderGrid() {
    const counts = N.cell.map(function () { return O.map(function () { return 0; }); });
    const flaky = N.cell.map(function () { return 0; });
    for (const t of D.targets) {
      if (!keep(t, true)) continue;
      shownCounts(t).forEach(function (n, j) { counts[t[CELL]][j] += n; });
      if (t[STATUS] === FLAKY) flaky[t[CELL]] += 1;
    }
    const head = el("tr", {}, el("th", {text: "transformers ↓  peft →"}));
    D.peft.forEach(function (p) { head.append(el("th", {text: p})); });
    const body = el("tbody");
    D.tf.forEach(function (tf) {
      const row = el("tr", {}, el("th", {text: tf}));
      D.peft.forEach(function (peft) {
        const td = el("td");
        N.cell.forEach(function (name, c) {
          if (D.squares[c] && D.squares[c][0] === tf && D.squares[c][1] === peft) td.append(cellButton(c, counts[c], flaky[c]));
        });
        if (!td.childNodes.length) { td.className = "empty"; td.title = "no cell ran this pair"; }
        row.append(td);
      });
      body.append(row);
    });
    const grid = document.getElementById("grid");
    grid.replaceChildren(el("table", {class: "grid"}, el("thead", {}, head), body));
    if (D.mixed.length) {
      grid.append(el("p", {class: "note", text: "Ran on more than one version pair, shown under the most frequent: " +
                                                 D.mixed.join(", ")}));
    }
  }
  function cellButton(c, counts, flaky) {
    const total = counts.reduce(function (a, b) { return a + b; }, 0);
    const worst = worstOutcome(counts);
    const button = el("button", {type: "button", class: "cell b-" + (S[worst] || "none") + (F.cell === c ? " selected" : ""),
                                 title: "show only " + N.cell[c]},
                      el("span", {class: "name", text: N.cell[c]}),
                      el("span", {class: "num", text: fmt.format(total) + " verdicts" + (flaky ? ", " + flaky + " flaky targets" : "")}),
                      total ? countBadges(counts) : el("span", {class: "num", text: "none match the filters"}));
    button.addEventListener("click", function () {
      F.cell = F.cell === c ? -1 : c; showFilters(); apply();
    });
    return button;
  }

  // --- matrix: one block per method (rows (arch, task), columns property), the blocks wrapping to the page's
  // width; one square per group of targets over the cells
  function renderMatrix() {
    const blocks = new Map();  // method → {rows, columns}
    let matched = 0;
    for (const t of D.targets) {
      if (!keep(t, false)) continue;
      matched += 1;
      let block = blocks.get(t[METHOD]);
      if (!block) blocks.set(t[METHOD], block = {rows: new Map(), columns: new Set()});
      const rowKey = t[ARCH] * 1e4 + t[TASK];
      block.columns.add(t[PROPERTY]);
      let row = block.rows.get(rowKey);
      if (!row) block.rows.set(rowKey, row = {arch: t[ARCH], task: t[TASK], rank: S.length, groups: new Map()});
      if (!row.groups.has(t[PROPERTY])) row.groups.set(t[PROPERTY], []);
      row.groups.get(t[PROPERTY]).push(t);
      row.rank = Math.min(row.rank, t[STATUS]);
    }
    document.getElementById("match-count").textContent = fmt.format(matched) + " of " + fmt.format(D.targets.length) + " targets match";
    const matrix = document.getElementById("matrix");
    if (!blocks.size) { matrix.replaceChildren(el("p", {class: "none", text: "No target matches the filters."})); return; }
    const groups = [];  // a square's data-g → its targets, for the click handler
    const tables = [];
    let hidden = 0;
    for (const method of Array.from(blocks.keys()).sort(function (a, b) { return a - b; })) {
      const block = blocks.get(method);
      const cols = Array.from(block.columns).sort(function (a, b) { return a - b; });
      const sorted = Array.from(block.rows.values()).sort(function (a, b) {
        return a.rank - b.rank || N.arch[a.arch].localeCompare(N.arch[b.arch]) || a.task - b.task;
      });
      const methodRow = el("tr", {}, el("th", {rowspan: "2", text: "arch"}), el("th", {rowspan: "2", text: "task"}),
                           el("th", {colspan: String(cols.length), text: N.method[method]}));
      const propertyRow = el("tr");
      for (const property of cols) {
        propertyRow.append(el("th", {class: "prop", title: N.property[property], text: N.property[property]}));
      }
      const body = el("tbody");
      const shown = F.allRows ? sorted : sorted.slice(0, MAX_ROWS);
      hidden += sorted.length - shown.length;
      for (const row of shown) {
        const tr = el("tr", {}, el("th", {class: "arch", text: N.arch[row.arch]}), el("td", {class: "task", text: N.task[row.task]}));
        for (const property of cols) {
          const group = row.groups.get(property);
          tr.append(group ? square(group, groups.push(group) - 1) : el("td"));
        }
        body.append(tr);
      }
      tables.push(el("div", {class: "block"}, el("table", {class: "matrix"}, el("thead", {}, methodRow, propertyRow), body)));
    }
    const wrap = el("div", {class: "matrices"});
    wrap.append.apply(wrap, tables);
    wrap.addEventListener("click", function (event) {
      const td = event.target.closest("td[data-g]");
      if (td) showDetail(groups[Number(td.dataset.g)]);
    });
    const parts = [wrap];
    if (hidden && !F.allRows) {
      const more = el("button", {type: "button", text: "show all rows (" + fmt.format(hidden) + " more)"});
      more.addEventListener("click", function () { F.allRows = true; renderMatrix(); });
      parts.push(el("p", {class: "note", text: "Per method, the " + MAX_ROWS + " rows that need most attention are shown. "}, more));
    }
    matrix.replaceChildren.apply(matrix, parts);
  }
  function square(group, g) {  // one table cell: the worst status of the group's targets
    const status = S[Math.min.apply(null, group.map(function (t) { return t[STATUS]; }))];
    const t0 = group[0];
    const label = N.arch[t0[ARCH]] + " · " + N.method[t0[METHOD]] + " · " + N.property[t0[PROPERTY]] + ": " + status +
                  (group.length > 1 ? " (worst of " + group.length + " cells)" : " in " + N.cell[t0[CELL]]);
    return el("td", {class: "sq s-" + status, title: label, "data-g": String(g), text: D.symbols[status]});
  }
  function showDetail(group) {
    const t0 = group[0];
    const detail = document.getElementById("detail");
    const table = el("table", {class: "rows"}, el("thead", {}, el("tr", {},
      el("th", {text: "cell"}), el("th", {text: "status"}), el("th", {text: "verdicts"}),
      el("th", {text: "failures"}), el("th", {text: "failing cases"}))));
    const body = el("tbody");
    for (const t of group) {
      const sigs = el("td");
      for (const i of t[SIGS] || []) {
        const [anchor, text] = D.sigs[i];
        sigs.append(el("div", {}, el("a", {href: "#" + anchor, text: text})));
      }
      const repros = el("td");
      for (const caseId of t[CASES] || []) {
        repros.append(el("div", {}, el("span", {class: "repro"}, el("code", {text: repro(N.cell[t[CELL]], caseId)}),
                                       el("button", {type: "button", class: "copy", text: "copy"}))));
      }
      body.append(el("tr", {}, el("td", {text: N.cell[t[CELL]]}), el("td", {}, badge(S[t[STATUS]], S[t[STATUS]])),
                     el("td", {}, countBadges(t[COUNTS])), sigs, repros));
    }
    table.append(body);
    const close = el("button", {type: "button", text: "close"});
    close.addEventListener("click", function () { detail.hidden = true; });
    detail.replaceChildren(
      el("h3", {text: [N.arch[t0[ARCH]], N.task[t0[TASK]], N.method[t0[METHOD]], N.property[t0[PROPERTY]]].join(" · ")}),
      table, close);
    detail.hidden = false;
    detail.scrollIntoView({block: "nearest"});
  }

  // --- links to a closed <details> open it; copy buttons
  function openHash() {
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === "DETAILS") { target.hidden = false; target.open = true; target.scrollIntoView(); }
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("button.copy");
    if (!button) return;
    const code = button.previousElementSibling;
    const done = function (text) { button.textContent = text; setTimeout(function () { button.textContent = "copy"; }, 1500); };
    const select = function () {
      const range = document.createRange(); range.selectNodeContents(code);
      const selection = getSelection(); selection.removeAllRanges(); selection.addRange(range); done("Ctrl+C");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code.textContent).then(function () { done("copied"); }, select);
    } else select();
  });
  window.addEventListener("hashchange", openHash);

  function apply() { renderGrid(); renderMatrix(); applyStatic(); writeQuery(); }
  buildFilters();
  readQuery();
  apply();
  openHash();
  void document.body.offsetHeight;  // layout included in the figure below
  document.documentElement.dataset.openMs = String(Math.round(performance.now()));
})();
