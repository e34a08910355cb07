// Graphs: node details on focus, click or tap (not only on hover), shown next to the node and
// inside the window; zoom for every graph (out, in, 100%, fit to the column). Graphs marked
// data-dla-fit open fitted to the column. Written for this project; nothing is loaded from the web.
document$.subscribe(function () {
  var MARGIN = 8;
  document.querySelectorAll(".dla-graph").forEach(function (figure) {
    var detail = figure.querySelector(".dla-graph__detail");
    var scroller = figure.querySelector(".dla-scroll");
    var pressed = null;

    // The details sit beside the node: below it when there is room in the window, else above;
    // never under the sticky header, never past an edge. They follow the node as it scrolls.
    function place() {
      if (!detail || !pressed || !detail.textContent) return;
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
      if (detail) {
        detail.textContent = tip;
        place();
      }
    }
    figure.addEventListener("focusin", function (event) {
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
    var box = svg.viewBox.baseVal, scale = 1, fitted = false;
    var natural = box.width * 4 / 3;  // Graphviz sizes in points; one point is 4/3 CSS px
    function zoom(next) {
      scale = Math.min(3, Math.max(0.1, next));
      svg.style.width = (natural * scale) + "px";
      svg.style.height = (box.height * 4 / 3 * scale) + "px";
      figure.setAttribute("data-dla-scale", scale.toFixed(3));
      place();
    }
    function fit() {
      fitted = true;
      zoom(Math.min(1, scroller.clientWidth / natural));
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
  });
});
