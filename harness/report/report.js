"use strict";
// The report's filters, cell grid and target matrix. Data comes from the JSON island and is written with
// textContent / setAttribute only, never parsed as HTML.
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const N = D.names, S = D.statuses;
  // a row: [arch, task, method, per property (in N.property order) the index of its pattern]; a pattern: one
  // character per cell (N.cell order), the status's index in S, or "." where the cell has no verdict of it
  const ARCH = 0, TASK = 1, METHOD = 2, PATTERNS = 3;
  const P = D.patterns.map(function (text) {
    return Array.from(text, function (char) { return char === "." ? -1 : Number(char); });
  });
  const WORST = P.map(function (p) {  // the status needing most attention among a pattern's cells, -1 for none
    const present = p.filter(function (st) { return st >= 0; });
    return present.length ? Math.min.apply(null, present) : -1;
  });
  // (row, property) → {sigs, cases}: only those that fail or are flaky in some cell have any
  const BAD = new Map(D.bad.map(function (b) { return [b[0] * N.property.length + b[1], {sigs: b[2], cases: b[3]}]; }));
  const SELECTS = [["cell", "cells"], ["task", "tasks"], ["method", "methods"], ["property", "properties"]];
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
  function countBadges(counts) {  // counts by status index
    const span = el("span");
    S.forEach(function (status, j) { if (counts[j]) span.append(badge(status, fmt.format(counts[j]) + " " + status), " "); });
    return span;
  }

  // --- filters: the task, method, property and arch filters choose (row, property) pairs; the cell and outcome
  // filters choose, within a pair's pattern, the cells that count
  function keep(row, prop) {
    if (F.task >= 0 && row[TASK] !== F.task) return false;
    if (F.method >= 0 && row[METHOD] !== F.method) return false;
    if (F.property >= 0 && prop !== F.property) return false;
    return !F.arch || archLower[row[ARCH]].includes(F.arch);
  }
  function shown(pattern) {  // the status a square of this pattern shows under the cell and outcome filters, or -1
    const p = P[pattern], want = F.outcome ? S.indexOf(F.outcome) : -1;
    if (F.cell >= 0) return p[F.cell] >= 0 && (want < 0 || p[F.cell] === want) ? p[F.cell] : -1;
    if (want >= 0) return p.includes(want) ? want : -1;
    return WORST[pattern];
  }
  const controls = {};  // filter → its <select> or <input>
  function buildFilters() {
    const bar = document.getElementById("filters");
    for (const [part, plural] of SELECTS) {
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
  function renderGrid() {  // per cell, its (target, property) pairs by status, under every filter but the cell
    const uses = P.map(function () { return 0; });  // pattern → pairs that keep() keeps
    for (const row of D.rows) row[PATTERNS].forEach(function (pattern, prop) { if (keep(row, prop)) uses[pattern] += 1; });
    const want = F.outcome ? S.indexOf(F.outcome) : -1;
    const counts = N.cell.map(function () { return S.map(function () { return 0; }); });
    uses.forEach(function (n, pattern) {
      if (n) P[pattern].forEach(function (st, c) { if (st >= 0 && (want < 0 || st === want)) counts[c][st] += n; });
    });
    const head = el("tr", {}, el("th", {text: "transformers ↓  peft →"}));
    D.peft.forEach(function (p) { head.append(el("th", {text: p})); });
    const body = el("tbody");
    D.tf.forEach(function (tf) {
      const row = el("tr", {}, el("th", {text: tf}));
      D.peft.forEach(function (peft) {
        const td = el("td");
        N.cell.forEach(function (name, c) {
          if (D.squares[c] && D.squares[c][0] === tf && D.squares[c][1] === peft) td.append(cellButton(c, counts[c]));
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
  function cellButton(c, counts) {
    const total = counts.reduce(function (a, b) { return a + b; }, 0);
    const worst = counts.findIndex(function (n) { return n > 0; });
    const button = el("button", {type: "button", class: "cell b-" + (S[worst] || "none") + (F.cell === c ? " selected" : ""),
                                 title: "show only " + N.cell[c]},
                      el("span", {class: "name", text: N.cell[c]}),
                      el("span", {class: "num", text: fmt.format(D.verdicts[c]) + " verdicts, " + fmt.format(total) + " targets"}),
                      total ? countBadges(counts) : el("span", {class: "num", text: "none match the filters"}));
    button.addEventListener("click", function () {
      F.cell = F.cell === c ? -1 : c; showFilters(); apply();
    });
    return button;
  }

  // --- matrix: one block per method (rows (arch, task), columns property), the blocks wrapping to the page's
  // width; a square shows its status in the chosen cell, else the worst over the cells
  function renderMatrix() {
    const blocks = new Map();  // method → {rows, columns}
    let matched = 0, total = 0;
    D.rows.forEach(function (row, r) {
      row[PATTERNS].forEach(function (pattern, prop) {
        if (WORST[pattern] >= 0) total += 1;
        const status = keep(row, prop) ? shown(pattern) : -1;
        if (status < 0) return;
        matched += 1;
        let block = blocks.get(row[METHOD]);
        if (!block) blocks.set(row[METHOD], block = {rows: new Map(), columns: new Set()});
        block.columns.add(prop);
        let line = block.rows.get(r);
        if (!line) block.rows.set(r, line = {row: row, r: r, rank: S.length, squares: new Map()});
        line.squares.set(prop, status);
        line.rank = Math.min(line.rank, status);
      });
    });
    document.getElementById("match-count").textContent = fmt.format(matched) + " of " + fmt.format(total) + " targets match";
    const matrix = document.getElementById("matrix");
    if (!blocks.size) { matrix.replaceChildren(el("p", {class: "none", text: "No target matches the filters."})); return; }
    const tables = [];
    let hidden = 0;
    for (const method of Array.from(blocks.keys()).sort(function (a, b) { return a - b; })) {
      const block = blocks.get(method);
      const cols = Array.from(block.columns).sort(function (a, b) { return a - b; });
      const sorted = Array.from(block.rows.values()).sort(function (a, b) {
        return a.rank - b.rank || N.arch[a.row[ARCH]].localeCompare(N.arch[b.row[ARCH]]) || a.row[TASK] - b.row[TASK];
      });
      const methodRow = el("tr", {}, el("th", {rowspan: "2", text: "arch"}), el("th", {rowspan: "2", text: "task"}),
                           el("th", {colspan: String(cols.length), text: N.method[method]}));
      const propertyRow = el("tr");
      for (const property of cols) {
        propertyRow.append(el("th", {class: "prop", title: N.property[property], text: N.property[property]}));
      }
      const body = el("tbody");
      const lines = F.allRows ? sorted : sorted.slice(0, MAX_ROWS);
      hidden += sorted.length - lines.length;
      for (const line of lines) {
        const tr = el("tr", {}, el("th", {class: "arch", text: N.arch[line.row[ARCH]]}),
                      el("td", {class: "task", text: N.task[line.row[TASK]]}));
        for (const property of cols) {
          tr.append(line.squares.has(property) ? square(line.r, property, line.squares.get(property)) : el("td"));
        }
        body.append(tr);
      }
      tables.push(el("div", {class: "block"}, el("table", {class: "matrix"}, el("thead", {}, methodRow, propertyRow), body)));
    }
    const wrap = el("div", {class: "matrices"});
    wrap.append.apply(wrap, tables);
    wrap.addEventListener("click", function (event) {
      const td = event.target.closest("td[data-r]");
      if (td) showDetail(Number(td.dataset.r), Number(td.dataset.p));
    });
    const parts = [wrap];
    if (hidden && !F.allRows) {
      const more = el("button", {type: "button", text: "show all rows (" + fmt.format(hidden) + " more)"});
      more.addEventListener("click", function () { F.allRows = true; renderMatrix(); });
      parts.push(el("p", {class: "note", text: "Per method, the " + MAX_ROWS + " rows that need most attention are shown. "}, more));
    }
    matrix.replaceChildren.apply(matrix, parts);
  }
  function square(r, prop, status) {  // one table cell
    const row = D.rows[r], cells = P[row[PATTERNS][prop]].filter(function (st) { return st >= 0; }).length;
    const label = N.arch[row[ARCH]] + " · " + N.method[row[METHOD]] + " · " + N.property[prop] + ": " + S[status] +
                  (F.cell >= 0 ? " in " + N.cell[F.cell] : cells > 1 ? " (worst of " + cells + " cells)" : "");
    return el("td", {class: "sq s-" + S[status], title: label, "data-r": String(r), "data-p": String(prop),
                     text: D.symbols[S[status]]});
  }
  function showDetail(r, prop) {  // the pair's cells by status, its failures and failing cases
    const row = D.rows[r], pattern = P[row[PATTERNS][prop]];
    const table = el("table", {class: "rows"}, el("thead", {}, el("tr", {},
      el("th", {text: "status"}), el("th", {text: "cells"}))));
    const body = el("tbody");
    S.forEach(function (status, st) {
      const cells = N.cell.filter(function (name, c) { return pattern[c] === st; });
      if (cells.length) body.append(el("tr", {}, el("td", {}, badge(status, status)), el("td", {text: cells.join(", ")})));
    });
    table.append(body);
    const parts = [el("h3", {text: [N.arch[row[ARCH]], N.task[row[TASK]], N.method[row[METHOD]], N.property[prop]].join(" · ")}),
                   table];
    const bad = BAD.get(r * N.property.length + prop);
    if (bad) {
      const sigs = el("div", {}, el("strong", {text: "failures "}));
      for (const i of bad.sigs) sigs.append(el("div", {}, el("a", {href: "#" + D.sigs[i][0], text: D.sigs[i][1]})));
      const repros = el("div", {}, el("strong", {text: "failing cases "}));
      for (const [c, caseId] of bad.cases) {
        repros.append(el("div", {}, el("span", {class: "repro"}, el("code", {text: repro(N.cell[c], caseId)}),
                                       el("button", {type: "button", class: "copy", text: "copy"}))));
      }
      parts.push(sigs, repros);
    }
    parts.push(el("p", {class: "note", text: "Verdict counts and failing cases per cell: compat.details.json."}));
    const close = el("button", {type: "button", text: "close"});
    close.addEventListener("click", function () { detail.hidden = true; });
    const detail = document.getElementById("detail");
    parts.push(close);
    detail.replaceChildren.apply(detail, parts);
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
