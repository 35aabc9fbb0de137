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
      sea: "line.corridor.sea", contact: "polyline.contact, polyline.buffer",
      medical: "g.medical"
    };
    layers.addEventListener("change", function (ev) {
      var key = ev.target.getAttribute("data-layer");
      if (!key || !targets[key]) { return; }
      map.querySelectorAll(targets[key]).forEach(function (el) {
        el.classList.toggle("off", !ev.target.checked);
      });
    });
  }
})();
