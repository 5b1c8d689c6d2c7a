// What was done on an incident page while the server could not be reached: kept on the phone
// (IndexedDB) until it is sent, by the page when it is back online or loaded again, or by the
// service worker's background sync. Each action carries an id made here and the time it
// happened here; the server applies each id once, however often it arrives. Used by the
// incident page and, through importScripts, by the service worker.
(function (root) {
  "use strict";
  var DB = "beredskab-offline";
  var STORE = "actions";

  var open = function () {
    return new Promise(function (resolve, reject) {
      var request = root.indexedDB.open(DB, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "id" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  };

  // Runs `work` on the store; resolves with what its request gave, once the transaction is done.
  var withStore = function (mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  };

  var queue = {
    // `action`: {kind, system, step, text}; gets its id and time here.
    add: function (incident, csrf, action) {
      action.id = root.crypto.randomUUID();
      action.at = new Date().toISOString();
      action.incident = String(incident);
      action.csrf = csrf;
      return withStore("readwrite", function (s) { return s.put(action); }).then(function () { return action; });
    },
    all: function () {
      return withStore("readonly", function (s) { return s.getAll(); });
    },
    remove: function (ids) {
      return withStore("readwrite", function (s) {
        ids.forEach(function (id) { s.delete(id); });
        return null;
      });
    },
    // Sends everything kept, per incident, in the order it happened; what the server answered
    // is removed. Resolves with [{incident, answer}]; rejects while the server is away.
    send: function () {
      return queue.all().then(function (actions) {
        var byIncident = {};
        actions.sort(function (a, b) { return a.at < b.at ? -1 : (a.at > b.at ? 1 : 0); });
        actions.forEach(function (a) { (byIncident[a.incident] = byIncident[a.incident] || []).push(a); });
        return Promise.all(Object.keys(byIncident).map(function (incident) {
          var batch = byIncident[incident];
          return root.fetch("/incidents/" + incident + "/offline", {
            method: "POST",
            credentials: "same-origin",
            headers: {
              "Content-Type": "application/json",
              "X-CSRF-Token": batch[batch.length - 1].csrf,
              "X-Requested-With": "fetch"
            },
            body: JSON.stringify({ actions: batch.map(function (a) {
              return { id: a.id, at: a.at, kind: a.kind, system: a.system || "", step: a.step, text: a.text || "" };
            }) })
          }).then(function (r) {
            // Signed out, or the session changed: kept until the page can send it.
            if (!r.ok) { return Promise.reject(r.status); }
            return r.json();
          }).then(function (answer) {
            return queue.remove(batch.map(function (a) { return a.id; })).then(function () {
              return { incident: incident, answer: answer };
            });
          });
        }));
      });
    }
  };
  root.BeredskabQueue = queue;
}(self));
