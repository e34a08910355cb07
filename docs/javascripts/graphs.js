// Graphs: node details on focus, click or tap (not only on hover), and zoom for full graphs.
// Written for this project; nothing is loaded from the web.
document$.subscribe(function () {
  document.querySelectorAll(".dla-graph").forEach(function (figure) {
    var detail = figure.querySelector(".dla-graph__detail");
    var pressed = null;
    function show(node) {
      if (pressed) pressed.removeAttribute("aria-pressed");
      pressed = node;
      node.setAttribute("aria-pressed", "true");
      var tip = node.getAttributeNS("http://www.w3.org/1999/xlink", "title") || node.getAttribute("aria-label");
      if (detail) detail.textContent = tip;
    }
    figure.addEventListener("focusin", function (event) {
      var node = event.target.closest && event.target.closest('[role="button"]');
      if (node) show(node);
    });
    figure.addEventListener("click", function (event) {
      var node = event.target.closest && event.target.closest('[role="button"]');
      if (node) { node.focus(); show(node); }
    });
    if (!figure.hasAttribute("data-dla-zoom")) return;
    var svg = figure.querySelector("svg");
    if (!svg || figure.querySelector(".dla-graph__tools")) return;
    var box = svg.viewBox.baseVal, scale = 1;
    function zoom(next) {
      scale = Math.min(3, Math.max(0.25, next));
      svg.style.width = (box.width * 4 / 3 * scale) + "px";
      svg.style.height = (box.height * 4 / 3 * scale) + "px";
    }
    var tools = document.createElement("div");
    tools.className = "dla-graph__tools";
    [["\u2212", "Zoom out", function () { zoom(scale / 1.25); }],
     ["+", "Zoom in", function () { zoom(scale * 1.25); }],
     ["100%", "Actual size", function () { zoom(1); }]].forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = spec[0];
      button.setAttribute("aria-label", spec[1]);
      button.addEventListener("click", spec[2]);
      tools.appendChild(button);
    });
    figure.insertBefore(tools, figure.firstChild);
  });
});
