/* coopdesa: zoom and pan for the network drawings (svg[data-pan-zoom]), with the vendored
   svg-pan-zoom (static/vendor/svg-pan-zoom). Progressive enhancement only: without
   JavaScript the drawing scales to the page, prints, and its nodes are plain links.

   - Wide screens: svg-pan-zoom, with + / whole drawing / - buttons above the drawing, drag
     to pan, double-click to zoom. The mouse wheel zooms only after a click in the drawing (until the pointer
     leaves it), so that scrolling the page over the drawing keeps scrolling the page.
   - Narrow screens (a phone): the drawing keeps a readable width and scrolls sideways
     inside its box with the native touch scrolling; taps open the parties' pages.
   - Links keep working: nothing here cancels a click.

   The page's Content-Security-Policy forbids inline styles: every style below is set
   through the CSSOM (element.style), which the policy allows, never as a style attribute;
   the library's own buttons (controlIconsEnabled) would add an inline <style>, so the
   buttons are ours. */
(function () {
  "use strict";

  var NARROW = 640; /* below this width (CSS px) the drawing scrolls instead */
  var READABLE_WIDTH = 860; /* the drawing's width on a phone: labels of about 11 px */

  function viewBoxRatio(svg) {
    var box = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
    return box.length === 4 && box[2] > 0 ? box[3] / box[2] : 0.75;
  }

  function scrollable(svg) {
    var holder = svg.parentNode;
    holder.style.overflowX = "auto";
    svg.style.width = READABLE_WIDTH + "px";
    svg.style.maxWidth = "none";
    svg.style.height = Math.round(READABLE_WIDTH * viewBoxRatio(svg)) + "px";
  }

  function button(text, label, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-outline-secondary";
    b.textContent = text;
    if (label !== text) { b.setAttribute("aria-label", label); b.title = label; }
    b.addEventListener("click", action);
    return b;
  }

  /* Zoom buttons as HTML above the drawing: reachable with the keyboard, labelled in the
     page's language (the svg's data-label-* attributes), and without the library's own
     icons, whose inline <style> the policy would refuse. */
  function toolbar(svg, zoom) {
    var bar = document.createElement("div");
    bar.className = "btn-group btn-group-sm m-1 network-zoom";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", svg.getAttribute("data-label-zoom") || "Zoom");
    bar.appendChild(button("+", svg.getAttribute("data-label-zoom-in") || "+",
                           function () { zoom.zoomIn(); }));
    bar.appendChild(button(svg.getAttribute("data-label-reset") || "1:1",
                           svg.getAttribute("data-label-reset") || "1:1",
                           function () { zoom.resetZoom(); zoom.center(); }));
    bar.appendChild(button("\u2212", svg.getAttribute("data-label-zoom-out") || "-",
                           function () { zoom.zoomOut(); }));
    svg.parentNode.insertBefore(bar, svg);
  }

  function pannable(svg) {
    var box = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
    /* The library drops the viewBox: the height keeps the viewBox's proportions through
       aspect-ratio (the browser's own layout, so no resize loop when a scroll bar comes and
       goes), and the overflow is set here rather than by the library's style attribute. */
    svg.style.overflow = "hidden";
    svg.style.height = "auto";
    svg.style.aspectRatio = box.length === 4 && box[2] > 0 ? box[2] + " / " + box[3]
                                                           : "4 / 3";
    var zoom = window.svgPanZoom(svg, {
      controlIconsEnabled: false, /* our own buttons: see toolbar() */
      zoomScaleSensitivity: 0.3,
      minZoom: 0.5,
      maxZoom: 20,
      mouseWheelZoomEnabled: false
    });
    toolbar(svg, zoom);
    svg.addEventListener("mousedown", function () { zoom.enableMouseWheelZoom(); });
    svg.addEventListener("mouseleave", function () { zoom.disableMouseWheelZoom(); });

    var timer;
    var lastWidth = svg.clientWidth;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (Math.abs(svg.clientWidth - lastWidth) < 1) { return; }
        lastWidth = svg.clientWidth;
        zoom.resize();
        zoom.fit();
        zoom.center();
      }, 150);
    });
  }

  function setup(svg) {
    if (svg.parentNode.clientWidth < NARROW) {
      scrollable(svg);
    } else if (typeof window.svgPanZoom === "function") {
      pannable(svg);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("svg[data-pan-zoom]"), setup);
  });
})();
