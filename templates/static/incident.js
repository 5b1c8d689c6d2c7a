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
        showPending();
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

  // What a form does, as an action a phone can keep while the server is away; null for the
  // acts that need the server there (alerting, standing down, closing).
  var offlineAction = function (form) {
    var f = form.elements;
    var path = new URL(form.action, window.location.href).pathname;
    if (/\/ticks$/.test(path)) {
      return { kind: f.done.value === "0" ? "untick" : "tick", system: f.system.value, step: Number(f.step.value) };
    }
    if (/\/notes$/.test(path)) {
      var text = f.text.value.trim();
      return text ? { kind: "note", text: text } : null;
    }
    if (/\/systems$/.test(path)) {
      return { kind: f.state.value === "recovered" ? "recovered" : "down", system: f.system.value.trim() };
    }
    return null;
  };

  // Shows what is kept on the phone and not sent yet: the step or system greyed with a mark,
  // and notes at the end of the timeline.
  var showPending = function () {
    if (!window.BeredskabQueue) { return; }
    window.BeredskabQueue.all().then(function (actions) {
      var mine = actions.filter(function (a) { return a.incident === String(id); });
      var count = document.getElementById("not-sent");
      if (count) { count.hidden = mine.length === 0; }
      var timeline = live.querySelector("ul.timeline");
      mine.forEach(function (a) {
        if (a.kind === "note") {
          if (timeline && !document.getElementById("pending-" + a.id)) {
            var li = document.createElement("li");
            li.id = "pending-" + a.id;
            li.className = "pending";
            li.textContent = a.text + " ";
            var mark = document.createElement("strong");
            mark.textContent = live.dataset.notSent;
            li.appendChild(mark);
            timeline.appendChild(li);
          }
          return;
        }
        Array.prototype.forEach.call(live.querySelectorAll("form.live-form"), function (form) {
          var f = form.elements;
          var same = f.system && f.system.value === (a.system || "") &&
            (a.kind === "tick" || a.kind === "untick" ? f.step && Number(f.step.value) === a.step : f.state);
          if (!same || form.querySelector(".pending-mark")) { return; }
          var mark = document.createElement("strong");
          mark.className = "pending-mark";
          mark.textContent = " " + live.dataset.notSent;
          form.classList.add("pending");
          var button = form.querySelector("button");
          if (button) { button.disabled = true; }
          form.appendChild(mark);
        });
      });
    }).catch(function () {});
  };

  // Sends what the phone kept, then shows what the server has.
  var sending = false;
  var sendKept = function () {
    if (!window.BeredskabQueue || sending) { return; }
    sending = true;
    window.BeredskabQueue.send().then(function (sent) {
      sending = false;
      if (sent.length) { refresh(); }
    }, function () { sending = false; });
  };

  var keep = function (form, action) {
    var csrf = form.elements.csrf ? form.elements.csrf.value : "";
    return window.BeredskabQueue.add(id, csrf, action).then(function () {
      form.reset();
      showPending();
      if (navigator.serviceWorker && navigator.serviceWorker.ready) {
        navigator.serviceWorker.ready.then(function (r) {
          if (r.sync) { return r.sync.register("beredskab-offline"); }
          return null;
        }).catch(function () {});
      }
    });
  };

  // Forms of the live part, and the note form below it: sent in the background, then the part
  // is fetched again. When the server cannot be reached, what the form does is kept on the
  // phone and sent later.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !(form.classList.contains("live-form") || form.id === "note-form")) { return; }
    event.preventDefault();
    var action = offlineAction(form);
    if (navigator.onLine === false && action && window.BeredskabQueue) {
      keep(form, action);
      return;
    }
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
      return refresh();
    }, function () {
      // No answer: the server or the network is away.
      if (action && window.BeredskabQueue) { return keep(form, action); }
      window.alert(live.dataset.needsServer);
      return null;
    });
  });

  window.addEventListener("online", sendKept);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "synced") { refresh(); }
    });
  }
  showPending();
  sendKept();

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
