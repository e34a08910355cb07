// Graphs: node details on focus, click or tap (not only on hover), shown next to the node and
// inside the window, closed by Esc or their close button; zoom for every graph (out, in, 100%,
// fit to the column). Graphs marked data-dla-fit open fitted to the column, but never below
// labels of MIN_LABEL CSS px (a wider graph then scrolls inside its box); a graph with changed
// nodes (a variant diff) opens scrolled to them. Also the on-page contents for screens
// without Material's contents sidebar. Written for this project; nothing is loaded from the web.
var MIN_LABEL = 11.5;  // CSS px: the smallest label a first view may show (issue 10 asks 11)
// An overview whose stages side by side would need labels under MIN_LABEL to fit the column
// on a phone is laid out for the column instead: its stages one above the other, each moved
// whole (its box, nodes and edges), the arrows between stages left out (the order says it).
function stack(svg, column) {
  var clusters = svg.querySelectorAll("g.cluster");
  var box = svg.viewBox.baseVal;
  var sizes = [].map.call(svg.querySelectorAll("text"), function (t) { return parseFloat(t.getAttribute("font-size")) || 14; });
  var smallest = (sizes.length ? Math.min.apply(null, sizes) : 14) * 4 / 3;
  if (clusters.length < 2 || column > 600 || box.width * 4 / 3 * MIN_LABEL / smallest <= column) return;
  var prefix = clusters[0].id.replace(/cluster-[^-]+$/, "");
  var stages = [].map.call(clusters, function (c) {
    return { name: c.id.slice(prefix.length + "cluster-".length), box: c.getBBox(), parts: [c] };
  });
  svg.querySelectorAll("g.node, g.edge").forEach(function (g) {
    if (g.classList.contains("stage")) { g.style.display = "none"; return; }
    var rest = g.id.slice(prefix.length);
    stages.forEach(function (st) { if (rest.indexOf(st.name + "-") === 0) st.parts.push(g); });
  });
  var GAP = 10, top = Math.min.apply(null, stages.map(function (st) { return st.box.y; }));
  var y = top, width = 0;
  stages.forEach(function (st) {
    var dx = -st.box.x, dy = y - st.box.y;
    st.parts.forEach(function (g) { g.setAttribute("transform", "translate(" + dx + " " + dy + ")"); });
    y += st.box.height + GAP;
    width = Math.max(width, st.box.width);
  });
  var graph = svg.querySelector("g.graph").transform.baseVal.consolidate();
  var ox = graph ? graph.matrix.e : 0, oy = graph ? graph.matrix.f : 0;
  svg.setAttribute("viewBox", [ox - 4, oy + top - 4, width + 8, y - GAP - top + 8].join(" "));
  svg.setAttribute("aria-label", svg.getAttribute("aria-label").replace("side by side", "one above the other"));
  svg.closest(".dla-graph").setAttribute("data-dla-stacked", "");
}

document$.subscribe(function () {
  var MARGIN = 8;
  document.querySelectorAll(".dla-graph").forEach(function (figure) {
    var detail = figure.querySelector(".dla-graph__detail");
    var scroller = figure.querySelector(".dla-scroll");
    var pressed = null, quiet = false;
    var text = null;
    if (detail && !detail.querySelector(".dla-graph__close")) {
      text = document.createElement("span");
      detail.appendChild(text);
      var close = document.createElement("button");
      close.type = "button";
      close.className = "dla-graph__close";
      close.textContent = "\u00d7";
      close.setAttribute("aria-label", "Close the details");
      close.addEventListener("click", function () { hide(true); });
      detail.appendChild(close);
      detail.hidden = true;
    }
    function hide(refocus) {
      if (!detail || detail.hidden) return;
      detail.hidden = true;
      var node = pressed;
      pressed = null;
      if (node) {
        node.removeAttribute("aria-pressed");
        if (refocus && document.activeElement !== node) {
          quiet = true;  // focus goes back to the node without opening its details again
          node.focus({ preventScroll: true });
          quiet = false;
        }
      }
    }

    // The details sit beside the node: below it when there is room in the window, else above;
    // never under the sticky header, never past an edge. They follow the node as it scrolls.
    function place() {
      if (!detail || !pressed || detail.hidden) return;
      var node = pressed.getBoundingClientRect();
      var header = document.querySelector(".md-header");
      var top = header ? header.getBoundingClientRect().bottom : 0;
      var width = window.innerWidth, height = window.innerHeight;
      var hidden = node.bottom < top || node.top > height || node.right < 0 || node.left > width;
      detail.style.visibility = hidden ? "hidden" : "visible";
      var box = detail.getBoundingClientRect();
      var y = node.bottom + MARGIN;
      if (y + box.height > height - MARGIN) y = node.top - MARGIN - box.height;
      y = Math.max(top + MARGIN, Math.min(y, height - MARGIN - box.height));
      var x = Math.max(MARGIN, Math.min(node.left, width - MARGIN - box.width));
      detail.style.left = x + "px";
      detail.style.top = y + "px";
    }
    function show(node) {
      if (pressed) pressed.removeAttribute("aria-pressed");
      pressed = node;
      node.setAttribute("aria-pressed", "true");
      var tip = node.getAttributeNS("http://www.w3.org/1999/xlink", "title") || node.getAttribute("aria-label");
      if (detail && text) {
        text.textContent = tip;
        detail.hidden = false;
        place();
      }
    }
    figure.addEventListener("keydown", function (event) {
      if (event.key === "Escape") hide(true);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") hide(false);
    });
    figure.addEventListener("focusin", function (event) {
      if (quiet) return;
      var node = event.target.closest && event.target.closest('[role="button"]');
      if (node) show(node);
    });
    figure.addEventListener("click", function (event) {
      var node = event.target.closest && event.target.closest('[role="button"]');
      if (node) { node.focus({ preventScroll: true }); show(node); }
    });
    window.addEventListener("scroll", place, { passive: true });
    window.addEventListener("resize", place);
    if (scroller) scroller.addEventListener("scroll", place, { passive: true });

    var svg = figure.querySelector("svg");
    if (!svg || !scroller || figure.querySelector(".dla-graph__tools")) return;
    if (figure.hasAttribute("data-dla-fit")) stack(svg, scroller.clientWidth);
    var box = svg.viewBox.baseVal, scale = 1, fitted = false;
    var natural = box.width * 4 / 3;  // Graphviz sizes in points; one point is 4/3 CSS px
    // The smallest label at scale 1, in CSS px: the least scale that keeps it legible.
    var sizes = [].map.call(svg.querySelectorAll("text"), function (t) {
      return parseFloat(t.getAttribute("font-size")) || 14;
    });
    var smallest = sizes.length ? Math.min.apply(null, sizes) * 4 / 3 : 14;
    var legible = Math.min(1, MIN_LABEL / smallest);
    function zoom(next) {
      scale = Math.min(3, Math.max(0.1, next));
      svg.style.width = (natural * scale) + "px";
      svg.style.height = (box.height * 4 / 3 * scale) + "px";
      figure.setAttribute("data-dla-scale", scale.toFixed(3));
      place();
    }
    function fit() {
      fitted = true;
      zoom(Math.max(legible, Math.min(1, scroller.clientWidth / natural)));
    }
    // The changed nodes of a diff graph: the view opens on them (the first of them at least).
    function showChanged() {
      var changed = svg.querySelectorAll("g.changed");
      if (!changed.length) return;
      var frame = scroller.getBoundingClientRect(), first = changed[0].getBoundingClientRect();
      var left = first.left, top = first.top, right = first.right, bottom = first.bottom;
      [].forEach.call(changed, function (g) {
        var r = g.getBoundingClientRect();
        if (r.right - left <= frame.width && r.bottom - top <= frame.height) {
          right = Math.max(right, r.right); bottom = Math.max(bottom, r.bottom);
        }
      });
      scroller.scrollLeft += (left + right) / 2 - (frame.left + frame.width / 2);
      scroller.scrollTop += (top + bottom) / 2 - (frame.top + frame.height / 2);
    }
    var tools = document.createElement("div");
    tools.className = "dla-graph__tools";
    tools.setAttribute("role", "toolbar");
    tools.setAttribute("aria-label", "Zoom");
    [["\u2212", "Zoom out", function () { fitted = false; zoom(scale / 1.25); }],
     ["+", "Zoom in", function () { fitted = false; zoom(scale * 1.25); }],
     ["100%", "Actual size", function () { fitted = false; zoom(1); }],
     ["Fit", "Fit to the column", fit]].forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = spec[0];
      button.setAttribute("aria-label", spec[1]);
      button.addEventListener("click", spec[2]);
      tools.appendChild(button);
    });
    figure.insertBefore(tools, figure.firstChild);
    window.addEventListener("resize", function () { if (fitted) fit(); });
    if (figure.hasAttribute("data-dla-fit")) fit(); else zoom(1);
    showChanged();
  });

  // On-page contents where Material shows no contents sidebar (phones, tablets): one row of
  // links to the page's sections and their subsections under its title, scrolled sideways,
  // so any section is one tap away.
  var article = document.querySelector(".md-content__inner");
  if (article && !article.querySelector("nav.dla-jump")) {
    var headings = [].filter.call(article.querySelectorAll("h2[id], h3[id], h4[id]"), function (h) {
      return !h.closest("details, .admonition, .dla-graph");
    });
    if (headings.filter(function (h) { return h.tagName === "H2"; }).length >= 3) {
      var nav = document.createElement("nav");
      nav.className = "dla-jump";
      nav.setAttribute("aria-label", "On this page");
      var list = document.createElement("ul");
      headings.forEach(function (h) {
        var item = document.createElement("li"), link = document.createElement("a");
        link.href = "#" + h.id;
        if (h.tagName !== "H2") item.className = "dla-jump__sub";
        link.textContent = h.textContent.replace(/\u00b6\s*$/, "").trim();
        item.appendChild(link);
        list.appendChild(item);
      });
      nav.appendChild(list);
      var title = article.querySelector("h1");
      if (title) title.insertAdjacentElement("afterend", nav); else article.insertBefore(nav, article.firstChild);
    }
  }
});
