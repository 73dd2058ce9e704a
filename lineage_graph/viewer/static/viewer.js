/* lineage-graph viewer (Apache-2.0). Reads the JSON in #lineage-data and draws it with
   cytoscape.js + dagre, left to right. No network access: everything is inlined. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("lineage-data").textContent);
  // The control and invisible characters (C0, DEL, C1, bidi controls, zero width and other
  // format characters, line and paragraph separators) the CLI prints as visible escapes, as
  // the page is given them (lineage_graph._text.CONTROL_PATTERN_JS, read with the "u" flag so
  // a tag character, two UTF-16 units, is one character): stored text is shown with them
  // escaped, so a uri "s3://x/\u202egnp.exe" does not read "s3://x/exe.png" nor
  // "s3://bu\u200bcket" "s3://bucket". The data itself (window.lineageViewer.data) stays exact.
  var CONTROL = new RegExp(document.body.getAttribute("data-control"), "gu");
  var SHORT_ESCAPES = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };

  function hex(code, width) {
    var digits = code.toString(16);
    while (digits.length < width) { digits = "0" + digits; }
    return digits;
  }

  // A zero width non-joiner or joiner is shown as it is where it changes how the text is
  // drawn (after a virama; a ZWNJ between letters that join across it, as in Persian): the
  // rule (RFC 5892's CONTEXTJ) and its tables are lineage_graph._text's, the page is given them.
  var JOINERS = {};
  (function () {
    var given = JSON.parse(document.body.getAttribute("data-joiners"));
    Object.keys(given).forEach(function (name) {
      var starts = [], ends = [];
      given[name].split(/\s+/).forEach(function (item) {
        if (!item) { return; }
        var parts = item.split("-");
        starts.push(parseInt(parts[0], 16));
        ends.push(parseInt(parts[parts.length - 1], 16));
      });
      JOINERS[name] = { starts: starts, ends: ends };
    });
  })();

  function within(name, code) {
    var table = JOINERS[name], lo = 0, hi = table.starts.length - 1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (code < table.starts[mid]) { hi = mid - 1; }
      else if (code > table.ends[mid]) { lo = mid + 1; }
      else { return true; }
    }
    return false;
  }

  // [code point, its first UTF-16 index] of the character before index i / at index i
  function before(s, i) {
    if (i <= 0) { return null; }
    var low = s.charCodeAt(i - 1);
    if (i >= 2 && low >= 0xdc00 && low <= 0xdfff) {
      var high = s.charCodeAt(i - 2);
      if (high >= 0xd800 && high <= 0xdbff) { return [s.codePointAt(i - 2), i - 2]; }
    }
    return [low, i - 1];
  }
  function at(s, i) {
    if (i >= s.length) { return null; }
    var code = s.codePointAt(i);
    return [code, i + (code > 0xffff ? 2 : 1)];
  }

  var ESCAPED = new RegExp("^" + document.body.getAttribute("data-control") + "$", "u");
  function skipped(code) {  // a mark, not a character shown as an escape
    return within("transparent", code) && !ESCAPED.test(String.fromCodePoint(code));
  }

  function joinerDrawn(s, i) {
    var prev = before(s, i);
    if (prev && within("virama", prev[0])) { return true; }
    if (s[i] !== "\u200c") { return false; }
    while (prev && skipped(prev[0])) { prev = before(s, prev[1]); }
    if (!prev || !within("before", prev[0])) { return false; }
    var next = at(s, i + 1);
    while (next && skipped(next[0])) { next = at(s, next[1]); }
    return next !== null && within("after", next[0]);
  }

  function shown(text) {
    return String(text).replace(CONTROL, function (c, offset, whole) {
      var code = c.codePointAt(0);
      if (SHORT_ESCAPES[c]) { return SHORT_ESCAPES[c]; }
      if ((c === "\u200c" || c === "\u200d") && joinerDrawn(whole, offset)) { return c; }
      if (code < 0x100) { return "\\x" + hex(code, 2); }
      return code < 0x10000 ? "\\u" + hex(code, 4) : "\\U" + hex(code, 8);
    });
  }
  var STATE_COLORS = {
    execution: {
      COMPLETE: "#2e7d32", RUNNING: "#1565c0", FAILED: "#c62828", CACHED: "#00838f",
      CANCELED: "#757575", NEW: "#9e9e9e", UNKNOWN: "#b0bec5"
    },
    artifact: {
      LIVE: "#43a047", PENDING: "#f9a825", MARKED_FOR_DELETION: "#ef6c00", DELETED: "#757575",
      ABANDONED: "#c62828", REFERENCE: "#6a1b9a", UNKNOWN: "#90a4ae"
    }
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function colorOf(n) {
    var table = STATE_COLORS[n.kind] || {};
    return table[n.state] || "#b0bec5";
  }

  var byId = {};
  var elements = [];
  data.nodes.forEach(function (n) {
    byId[n.id] = n;
    elements.push({ group: "nodes", data: {
      id: n.id, label: n.label, kind: n.kind, color: colorOf(n)
    }, classes: n.kind });
  });
  data.edges.forEach(function (e, i) {
    if (byId[e.source] && byId[e.target]) {
      elements.push({ group: "edges", data: {
        id: "edge" + i, source: e.source, target: e.target, label: e.label || ""
      }, classes: e.kind });
    }
  });

  var large = data.nodes.length > 1500;
  var cy = cytoscape({
    container: document.getElementById("cy"),
    elements: elements,
    // low enough for a fit of the largest page (5,000 nodes in a chain is ~260,000 px long):
    // at 0.05 the first view showed 5% of such a graph and no zoom could show more
    minZoom: 0.001,
    maxZoom: 4,
    style: [
      { selector: "node", style: {
        "label": "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4,
        "text-wrap": "wrap", "text-max-width": 160, "color": "#263238",
        "background-color": "data(color)", "border-width": 2, "border-color": "#37474f"
      } },
      { selector: "node.artifact", style: { "shape": "round-rectangle", "width": 46, "height": 30 } },
      { selector: "node.execution", style: {
        "shape": "diamond", "width": 40, "height": 40, "border-color": "#102027"
      } },
      { selector: "edge", style: {
        "width": 1.6, "line-color": "#90a4ae", "target-arrow-color": "#90a4ae",
        "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.9
      } },
      { selector: "edge.output", style: { "line-color": "#607d8b", "target-arrow-color": "#607d8b" } },
      { selector: ".faded", style: { "opacity": 0.15 } },
      { selector: "node.focus", style: { "border-width": 5, "border-color": "#ff6f00" } },
      { selector: "node.up", style: { "border-color": "#1e88e5", "border-width": 4 } },
      { selector: "node.down", style: { "border-color": "#d81b60", "border-width": 4 } },
      { selector: "edge.up", style: { "line-color": "#1e88e5", "target-arrow-color": "#1e88e5", "width": 2.6 } },
      { selector: "edge.down", style: { "line-color": "#d81b60", "target-arrow-color": "#d81b60", "width": 2.6 } },
      { selector: "node.match", style: { "border-color": "#ff6f00", "border-width": 5 } }
    ],
    layout: large
      // breadthfirst puts each depth in a row (top to bottom): turned to read left to right,
      // as the dagre layout of smaller graphs does
      ? { name: "breadthfirst", directed: true, spacingFactor: 1.1,
          transform: function (node, pos) { return { x: pos.y, y: pos.x }; } }
      : { name: "dagre", rankDir: "LR", nodeSep: 24, rankSep: 70, edgeSep: 8 }
  });

  var panel = document.getElementById("details");
  var status = document.getElementById("status");

  function clearMarks() {
    cy.elements().removeClass("faded focus up down match");
  }

  function row(key, value) {
    return el("tr", {}, [el("th", { text: shown(key) }), el("td", { text: shown(value) })]);
  }

  // A node's upstream (or downstream) without the node itself: on a cycle (an artifact both
  // read and written by one execution) cytoscape counts the node among its own predecessors,
  // which painted the selected node pink and counted it as its own upstream and downstream.
  function lineage(node, direction) {
    var found = node[direction]();
    return found.not(node);
  }

  // Search text folded: NFD with the combining marks dropped, then lower case, so a name
  // stored decomposed ("Cafe\u0301") is found by "café" and "İstanbul" by "istanbul".
  function fold(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function when(ms) {
    // a timestamp beyond Date's range (|ms| > 8.64e15) made toISOString throw: the panel
    // stayed half drawn and the click did nothing more
    var d = new Date(ms);
    return isNaN(d.getTime()) ? String(ms) : d.toISOString();
  }

  function propTable(title, props) {
    var keys = Object.keys(props || {});
    if (!keys.length) { return null; }
    var table = el("table", { "class": "props" });
    keys.sort().forEach(function (k) {
      var v = props[k];
      table.appendChild(row(k, typeof v === "string" ? v : JSON.stringify(v)));
    });
    return el("div", {}, [el("h3", { text: title }), table]);
  }

  function showDetails(n) {
    panel.innerHTML = "";
    panel.appendChild(el("h2", { text: n.kind + " #" + n.entity_id }));
    var basics = el("table", { "class": "basics" });
    basics.appendChild(row("type", n.type || ""));
    if (n.name) { basics.appendChild(row("name", n.name)); }
    if (n.uri) { basics.appendChild(row("uri", n.uri)); }
    basics.appendChild(row("state", n.state));
    if (n.created) { basics.appendChild(row("created", when(n.created))); }
    if (n.contexts && n.contexts.length) { basics.appendChild(row("contexts", n.contexts.join(", "))); }
    panel.appendChild(basics);
    [["properties", n.properties], ["custom properties", n.custom_properties]].forEach(function (p) {
      var t = propTable(p[0], p[1]);
      if (t) { panel.appendChild(t); }
    });
    var node = cy.getElementById(n.id);
    var up = lineage(node, "predecessors"), down = lineage(node, "successors");
    panel.appendChild(el("p", { "class": "counts", text:
      up.nodes().length + " upstream, " + down.nodes().length + " downstream" }));
  }

  function select(id) {
    var n = byId[id];
    if (!n) { return false; }
    clearMarks();
    var node = cy.getElementById(id);
    var up = lineage(node, "predecessors"), down = lineage(node, "successors");
    cy.elements().not(node.union(up).union(down)).addClass("faded");
    up.addClass("up");
    down.addClass("down");
    node.addClass("focus");
    showDetails(n);
    panel.setAttribute("data-selected", id);
    return true;
  }

  function reset() {
    clearMarks();
    panel.innerHTML = "";
    panel.appendChild(el("p", { "class": "hint", text:
      "Click a node to see its properties and highlight its upstream (blue) and downstream (pink)." }));
    panel.removeAttribute("data-selected");
    status.textContent = "";
  }

  // One collection of the nodes with these ids, built at once: a union per id copied the
  // collection each time, quadratic: 1.3 s a keystroke for "1" on a 5,000-node page
  function nodesOf(ids) {
    var found = [];
    ids.forEach(function (id) {
      var node = cy.getElementById(id);
      if (node.nonempty()) { found.push(node[0]); }
    });
    return cy.collection(found);
  }

  function search(text) {
    clearMarks();
    var q = fold(text.trim());
    if (!q) { status.textContent = ""; return []; }
    var hits = data.nodes.filter(function (n) {
      return [n.name, n.uri, n.type, n.label, String(n.entity_id)].some(function (v) {
        return v && fold(v).indexOf(q) !== -1;
      });
    });
    var set = nodesOf(hits.map(function (n) { return n.id; }));
    cy.elements().not(set).addClass("faded");
    set.addClass("match");
    status.textContent = hits.length + (hits.length === 1 ? " match" : " matches");
    return hits;
  }

  cy.on("tap", "node", function (evt) { select(evt.target.id()); });
  cy.on("tap", function (evt) { if (evt.target === cy) { reset(); } });

  var box = document.getElementById("search");
  box.addEventListener("input", function () { search(box.value); });
  box.addEventListener("keydown", function (evt) {
    if (evt.key === "Enter") {
      var hits = search(box.value);
      if (hits.length) {
        select(hits[0].id);
        cy.animate({ center: { eles: cy.getElementById(hits[0].id) }, duration: 200 });
      }
    } else if (evt.key === "Escape") {
      box.value = "";
      reset();
    }
  });
  document.getElementById("fit").addEventListener("click", function () { cy.fit(undefined, 30); });
  document.getElementById("reset").addEventListener("click", function () { box.value = ""; reset(); });

  var legend = document.getElementById("legend");
  [["execution", "executions (diamonds)"], ["artifact", "artifacts (rounded)"]].forEach(function (k) {
    var items = [el("strong", { text: k[1] })];
    Object.keys(STATE_COLORS[k[0]]).forEach(function (s) {
      items.push(el("span", { "class": "chip" }, [
        el("i", { style: "background:" + STATE_COLORS[k[0]][s] }), document.createTextNode(s)
      ]));
    });
    legend.appendChild(el("div", {}, items));
  });

  if (data.contexts && data.contexts.length) {
    var list = document.getElementById("contexts");
    data.contexts.forEach(function (c) {
      var item = el("li", { text: shown(c.type + ": " + c.name) + " (" + c.members.length + ")" });
      item.addEventListener("click", function () {
        clearMarks();
        var set = nodesOf(c.members);
        cy.elements().not(set).addClass("faded");
        set.addClass("match");
        status.textContent = shown(c.type + " " + c.name) + ": " + c.members.length + " members";
      });
      list.appendChild(item);
    });
  }

  reset();
  cy.fit(undefined, 30);
  if (cy.zoom() > 1.4) { cy.zoom(1.4); cy.center(); }
  if (data.focus && byId[data.focus]) { select(data.focus); }
  window.lineageViewer = {
    cy: cy, data: data, select: select, search: search, reset: reset, shown: shown
  };
  document.body.setAttribute("data-ready", "true");
})();
