// coalition dashboard: small progressive enhancements only; every page works without it.
(function () {
  "use strict";
  // Plan page: poll the job (GET with the session cookie) and reload when it is finished.
  var box = document.querySelector("[data-testid=plan-progress]");
  if (box) {
    var id = box.getAttribute("data-job");
    var msg = box.querySelector("[data-role=message]");
    var bar = box.querySelector("[data-role=bar]");
    var tick = function () {
      fetch("/api/plans/" + encodeURIComponent(id), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          if (msg) { msg.textContent = job.message || job.status; }
          if (bar) { bar.setAttribute("width", String(Math.round((job.progress || 0) * 320))); }
          if (job.status === "done" || job.status === "failed") { window.location.reload(); }
          else { window.setTimeout(tick, 700); }
        })
        .catch(function () { window.setTimeout(tick, 2000); });
    };
    window.setTimeout(tick, 500);
  }
  // Analysis page: the same polling for an analysis run.
  var abox = document.querySelector("[data-testid=analysis-progress]");
  if (abox) {
    var aid = abox.getAttribute("data-job");
    var amsg = abox.querySelector("[data-role=message]");
    var abar = abox.querySelector("[data-role=bar]");
    var atick = function () {
      fetch("/api/analyses/" + encodeURIComponent(aid), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (run) {
          if (amsg) { amsg.textContent = Math.round((run.progress || 0) * 100) + " %"; }
          if (abar) { abar.setAttribute("width", String(Math.round((run.progress || 0) * 320))); }
          if (run.status !== "queued" && run.status !== "running") { window.location.reload(); }
          else { window.setTimeout(atick, 700); }
        })
        .catch(function () { window.setTimeout(atick, 2000); });
    };
    window.setTimeout(atick, 500);
  }
  // Map: layer toggles (the fieldset is shown only when this script runs).
  var layers = document.querySelector("[data-testid=layers]");
  var map = document.querySelector("svg.map");
  if (layers && map) {
    layers.hidden = false;
    var targets = {
      hubs: "g.hubs", rears: "g.rears", clabels: "g.clabels",
      road: "line.corridor.road", rail: "line.corridor.rail", air: "line.corridor.air",
      sea: "line.corridor.sea", contact: "polyline.contact", buffer: "polyline.buffer",
      depots: "g.depots", regions: "g.regions", medical: "g.medical"
    };
    layers.addEventListener("change", function (ev) {
      var key = ev.target.getAttribute("data-layer");
      if (!key || !targets[key]) { return; }
      map.querySelectorAll(targets[key]).forEach(function (el) {
        el.classList.toggle("off", !ev.target.checked);
      });
    });
  }
  // Map: pan and zoom by the viewBox (wheel, drag, the buttons, + - 0 and the arrow keys).
  // Markers and labels keep their size on screen in steps ("levels" 1, 2, 4): at level k they
  // are drawn 1/k of their size, with the label positions the server laid out for k; the
  // scale bar is redrawn for the zoom. The level is redone when the window is resized.
  if (map && map.getAttribute("data-width")) {
    var W = Number(map.getAttribute("data-width"));
    var H = Number(map.getAttribute("data-height"));
    var pxPerKm = Number(map.getAttribute("data-px-per-km"));
    var levels = map.getAttribute("data-levels").split(",").map(Number);
    var MAX_ZOOM = 8;
    var vb = { x: 0, y: 0, w: W, h: H };
    var level = 0; // none yet: the first apply() lays the labels out
    var tools = document.querySelector("[data-testid=map-tools]");
    var zoomNote = tools ? tools.querySelector("[data-role=zoom]") : null;
    var lang = document.documentElement.lang || "en";
    var fmt = window.Intl ? new Intl.NumberFormat(lang) : { format: String };
    var bar = map.querySelector("g.scalebar");
    var NICE = [5, 10, 20, 50, 100, 200, 500];
    var relabel = function (k) {
      var idx = Math.max(0, levels.indexOf(k));
      map.style.setProperty("--inv", String(1 / k));
      map.setAttribute("data-level", String(k));
      map.querySelectorAll("text[data-pl]").forEach(function (t) {
        var part = t.getAttribute("data-pl").split("|")[idx];
        if (!part || part === "-") { t.classList.add("lhide"); return; }
        var xya = part.split(",");
        t.setAttribute("x", xya[0]);
        t.setAttribute("y", xya[1]);
        t.setAttribute("text-anchor", xya[2]);
        t.classList.remove("lhide");
      });
      level = k;
    };
    var scalebar = function () {
      if (!bar) { return; }
      var u = vb.w / W; // map units per level-1 unit of the bar's own drawing
      var km = NICE[0];
      NICE.forEach(function (n) { if (n * pxPerKm / u <= 150) { km = n; } });
      var len = Math.round(km * pxPerKm / u * 10) / 10;
      bar.setAttribute("transform", "translate(" + (vb.x + 16 * u) + " " + (vb.y + vb.h - 22 * u) +
                       ") scale(" + u + ")");
      bar.querySelector("rect").setAttribute("width", String(len + 12));
      var lines = bar.querySelectorAll("line");
      lines[0].setAttribute("x2", String(len));
      lines[2].setAttribute("x1", String(len));
      lines[2].setAttribute("x2", String(len));
      var text = bar.querySelector("text");
      text.setAttribute("x", String(len / 2));
      text.setAttribute("data-km", String(km));
      text.textContent = map.getAttribute("data-km-label").replace("%(n)s", fmt.format(km));
    };
    var apply = function () {
      vb.w = Math.min(W, Math.max(W / MAX_ZOOM, vb.w));
      vb.h = vb.w * H / W;
      vb.x = Math.min(W - vb.w, Math.max(0, vb.x));
      vb.y = Math.min(H - vb.h, Math.max(0, vb.y));
      map.setAttribute("viewBox", [vb.x, vb.y, vb.w, vb.h].map(function (v) {
        return Math.round(v * 100) / 100;
      }).join(" "));
      var z = W / vb.w;
      // The level follows the scale on screen (zoom times the map's width on the page over its
      // width in map units), so a label is 1-2 times its size on a wide screen and grows when
      // a small screen zooms in, instead of staying as small as the map first drew it.
      var onScreen = z * map.getBoundingClientRect().width / W;
      var k = levels[0];
      levels.forEach(function (l) { if (onScreen >= l - 1e-9) { k = l; } });
      if (k !== level) { relabel(k); }
      scalebar();
      map.setAttribute("data-zoom", String(Math.round(z * 100) / 100));
      if (zoomNote) {
        zoomNote.textContent = map.getAttribute("data-zoom-label").replace(
          "%(n)s", fmt.format(Math.round(z * 10) / 10));
      }
    };
    var zoomAt = function (factor, cx, cy) { // (cx, cy): the map point that stays put
      var w = Math.min(W, Math.max(W / MAX_ZOOM, vb.w / factor));
      var f = w / vb.w;
      vb.x = cx - (cx - vb.x) * f;
      vb.y = cy - (cy - vb.y) * f;
      vb.w = w;
      apply();
    };
    var centre = function () { return [vb.x + vb.w / 2, vb.y + vb.h / 2]; };
    var toMap = function (clientX, clientY) {
      var m = map.getScreenCTM();
      if (!m) { return centre(); }
      var pt = map.createSVGPoint();
      pt.x = clientX; pt.y = clientY;
      var q = pt.matrixTransform(m.inverse());
      return [q.x, q.y];
    };
    var pan = function (fx, fy) { vb.x += fx * vb.w; vb.y += fy * vb.h; apply(); };
    map.setAttribute("tabindex", "0");
    if (tools) {
      tools.hidden = false;
      tools.addEventListener("click", function (ev) {
        var b = ev.target.closest("button[data-zoom]");
        if (!b) { return; }
        var c = centre();
        var what = b.getAttribute("data-zoom");
        if (what === "in") { zoomAt(2, c[0], c[1]); }
        else if (what === "out") { zoomAt(0.5, c[0], c[1]); }
        else { vb = { x: 0, y: 0, w: W, h: H }; apply(); }
      });
    }
    map.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var p = toMap(ev.clientX, ev.clientY);
      zoomAt(Math.exp(-ev.deltaY * 0.0015), p[0], p[1]);
    }, { passive: false });
    map.addEventListener("keydown", function (ev) {
      var c = centre();
      var step = 0.15;
      var keys = {
        "+": function () { zoomAt(2, c[0], c[1]); }, "=": function () { zoomAt(2, c[0], c[1]); },
        "-": function () { zoomAt(0.5, c[0], c[1]); }, "_": function () { zoomAt(0.5, c[0], c[1]); },
        "0": function () { vb = { x: 0, y: 0, w: W, h: H }; apply(); },
        ArrowLeft: function () { pan(-step, 0); }, ArrowRight: function () { pan(step, 0); },
        ArrowUp: function () { pan(0, -step); }, ArrowDown: function () { pan(0, step); }
      };
      var act = keys[ev.key];
      if (!act || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
      ev.preventDefault();
      act();
    });
    var drag = null;
    var dragged = false;
    map.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) { return; }
      drag = { x: ev.clientX, y: ev.clientY, vx: vb.x, vy: vb.y, id: ev.pointerId };
      dragged = false;
    });
    map.addEventListener("pointermove", function (ev) {
      if (!drag || ev.pointerId !== drag.id) { return; }
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (!dragged && Math.abs(dx) + Math.abs(dy) < 5) { return; }
      if (!dragged) { dragged = true; map.setPointerCapture(ev.pointerId); map.classList.add("dragging"); }
      var m = map.getScreenCTM();
      var scale = m ? m.a : map.clientWidth / vb.w;
      vb.x = drag.vx - dx / scale;
      vb.y = drag.vy - dy / scale;
      apply();
    });
    var end = function () { drag = null; map.classList.remove("dragging"); };
    map.addEventListener("pointerup", end);
    map.addEventListener("pointercancel", end);
    map.addEventListener("click", function (ev) { // a drag that ends on a hub does not open it
      if (dragged) { ev.preventDefault(); ev.stopPropagation(); dragged = false; }
    }, true);
    window.addEventListener("resize", apply);
    apply();
  }
})();
