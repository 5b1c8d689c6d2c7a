// The drill page's live parts: a clock of the time since the start, and each
// system's record saved while it is typed (and once more when the page is left). Everything
// here is an addition: without script the page shows the same state on reload and saves with
// its buttons.
(function () {
  "use strict";

  var clock = document.getElementById("clock");
  if (clock && !clock.dataset.closed) {
    var start = Date.parse(clock.dataset.start);
    var elapsed = document.getElementById("elapsed");
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var tick = function () {
      var ms = Date.now() - start;
      if (elapsed) {
        var s = Math.floor(Math.abs(ms) / 1000);
        elapsed.textContent = (ms < 0 ? "−" : "") + pad(Math.floor(s / 3600)) + ":" +
          pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
      }
    };
    tick();
    setInterval(tick, 1000);
  }

  var records = document.getElementById("records");
  if (!records) { return; }
  records.querySelectorAll("form.record").forEach(function (form) {
    if (!form.querySelector("button[type=submit]")) { return; }
    var state = form.querySelector(".save-state");
    var timer = null;
    var dirty = false;
    var show = function (text) { if (state) { state.textContent = text; } };
    var failed = function (reason) {
      dirty = true;
      show(records.dataset.failed.replace("{reason}", reason));
    };
    var save = function (leaving) {
      clearTimeout(timer);
      if (!dirty) { return; }
      dirty = false;
      var body = new URLSearchParams(new FormData(form));
      if (leaving && navigator.sendBeacon) {
        navigator.sendBeacon(form.action, body);
        return;
      }
      show(records.dataset.saving);
      fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (json) {
          if (response.ok) {
            show(records.dataset.saved.replace("{at}", json.saved_at));
          } else {
            failed(json.error || response.statusText);
          }
        }, function () { failed(response.status + " " + response.statusText); });
      }, function () { failed("…"); });
    };
    var later = function () {
      dirty = true;
      clearTimeout(timer);
      timer = setTimeout(save, 800);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      dirty = true;
      save(false);
    });
    window.addEventListener("pagehide", function () { save(true); });
  });
}());
