// Installs the service worker that keeps the runbook, the pocket plan and open incidents on
// the phone (sw.js). A signed-out page tells it to forget what it kept.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) { return; }
  var signedIn = document.body.dataset.signedIn === "1";
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (registration) {
    if (!signedIn) {
      var worker = registration.active || registration.waiting || registration.installing;
      if (worker) { worker.postMessage("forget"); }
    }
  }).catch(function () {});
}());
