// The incident page, live: server-sent events say when the incident changed (a tick, a note, a
// system marked down or back, by anyone), and the changing part of the page is fetched again.
// Forms in that part are sent in the background. Without script (or where event streams are
// blocked) the page works the same by reload.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }
  var id = live.dataset.incident;
  var revision = Number(live.dataset.revision);
  // A system's checklist opened with ?system=… stays open.
  var open = new URLSearchParams(window.location.search).get("system");
  var part = "/incidents/" + id + "?part=live" + (open ? "&system=" + encodeURIComponent(open) : "");
  // Folds the reader opened or closed (by id); the others keep what the server chose.
  var chosen = {};
  live.addEventListener("click", function (event) {
    var summary = event.target.closest ? event.target.closest("summary") : null;
    var fold = summary ? summary.parentElement : null;
    if (fold && fold.id) {
      setTimeout(function () { chosen[fold.id] = fold.open; }, 0);
    }
  });
  var busy = false;
  var again = false;

  var refresh = function () {
    if (busy) { again = true; return; }
    busy = true;
    fetch(part, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        // What the reader opened or closed, and is typing, stays as it was.
        var picker = document.getElementById("mark-system");
        var typed = picker ? picker.value : "";
        var focused = picker && document.activeElement === picker;
        live.innerHTML = html;
        Object.keys(chosen).forEach(function (fold) {
          var d = document.getElementById(fold);
          if (d) { d.open = chosen[fold]; }
        });
        picker = document.getElementById("mark-system");
        if (picker && typed) { picker.value = typed; }
        if (picker && focused) { picker.focus(); }
        mark();
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  };

  var mark = function () {
    var state = document.getElementById("live-state");
    if (state && window.EventSource) { state.textContent = live.dataset.liveText; }
  };

  // Forms inside the live part: sent in the background, then the part is fetched again.
  live.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("live-form")) { return; }
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
    }).then(function (r) {
      if (!r.ok) {
        return r.json().then(function (j) { window.alert(j.error || r.statusText); },
          function () { window.alert(r.status + " " + r.statusText); });
      }
      form.reset();
    }).then(refresh, refresh);
  });

  if (window.EventSource) {
    var source = new EventSource("/incidents/" + id + "/live");
    source.addEventListener("changed", function (event) {
      var seen = Number(event.data);
      if (seen > revision) {
        revision = seen;
        refresh();
      }
    });
    mark();
  }
  // The clocks count minutes: fetch the part again once a minute even if nothing else changed.
  setInterval(refresh, 60000);
}());
