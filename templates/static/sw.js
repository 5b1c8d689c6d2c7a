// beredskab's service worker. For the account signed in it keeps the pages /offline.json lists
// (each plan's approved runbook and pocket plan, every open incident), fetched again when their
// version changes. A page it keeps opens from the phone when the server does not answer within
// a few seconds, with a banner saying what is shown and from when. It keeps nothing else, and
// forgets everything when the list says nobody is signed in, or names another person.
"use strict";
importScripts("/static/queue.js");

var PREFIX = "beredskab-";
var META = PREFIX + "meta";
var STATE = "/__beredskab/state";
var WAIT_MS = 4000;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim().then(refresh));
});

var readState = function () {
  return caches.open(META).then(function (meta) { return meta.match(STATE); })
    .then(function (r) { return r ? r.json() : null; });
};
var writeState = function (state) {
  return caches.open(META).then(function (meta) {
    return meta.put(STATE, new Response(JSON.stringify(state), { headers: { "Content-Type": "application/json" } }));
  });
};
var forget = function () {
  return caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf(PREFIX) === 0; })
      .map(function (k) { return caches.delete(k); }));
  });
};

// Reads the list and brings what is kept up to date, at every page the server answers (so a
// sign-out, another person, or a plan left is seen at the next contact); what is kept is only
// fetched again when its version changed.
var running = null;
var refresh = function () {
  if (running) { return running; }
  running = update().catch(function () {}).then(function () { running = null; });
  return running;
};

var update = function () {
  return fetch("/offline.json", { credentials: "same-origin", cache: "no-store" }).then(function (r) {
    if (r.status === 401 || r.status === 403) { return forget(); }
    if (!r.ok) { return null; }
    return r.json().then(function (list) {
      return readState().then(function (old) {
        var same = old && old.user === list.user;
        // Another person signed in on this phone: the first one's pages go.
        var cleared = same || !old ? Promise.resolve() : forget();
        return cleared.then(function () { return caches.open(PREFIX + list.user); }).then(function (cache) {
          var pages = {};
          var before = same ? old.pages : {};
          var steps = list.pages.map(function (p) {
            pages[p.url] = { version: p.version, banner: p.banner, title: p.title };
            var had = before[p.url];
            return cache.match(p.url).then(function (cached) {
              if (cached && had && had.version === p.version) { return null; }
              return fetch(p.url, { credentials: "same-origin" }).then(function (page) {
                if (page.ok && !page.redirected) { return cache.put(p.url, page); }
                return null;
              });
            });
          });
          steps = steps.concat(list.assets.map(function (a) {
            return cache.match(a).then(function (cached) {
              return cached || fetch(a).then(function (r) { return r.ok ? cache.put(a, r) : null; });
            });
          }));
          return Promise.all(steps).then(function () {
            // What the list no longer names (a closed incident, a plan left) goes.
            return cache.keys().then(function (requests) {
              return Promise.all(requests.map(function (request) {
                var path = new URL(request.url).pathname;
                return pages[path] || list.assets.indexOf(path) >= 0 ? null : cache.delete(request);
              }));
            });
          }).then(function () {
            return writeState({
              user: list.user,
              pages: pages,
              offline_title: list.offline_title,
              offline_text: list.offline_text,
              kept: list.kept
            });
          });
        });
      });
    });
  });
};

var escape = function (text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
};

// A kept page, with the banner at the top of its main part.
var withBanner = function (response, banner) {
  return response.text().then(function (html) {
    var note = '<p class="offline-banner" id="offline-banner" role="status">' + escape(banner) + "</p>";
    html = html.replace('<main id="main">', '<main id="main">' + note);
    return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
};

// Offline, and the page is not kept: what is.
var notKept = function (state) {
  var list = "";
  if (state) {
    list = Object.keys(state.pages).map(function (url) {
      return '<li><a href="' + escape(url) + '">' + escape(state.pages[url].title) + "</a></li>";
    }).join("");
  }
  var title = state ? state.offline_title : "Offline";
  var text = state ? state.offline_text : "";
  var html = '<!doctype html><html lang="da"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>' + escape(title) + "</title></head>" +
    '<body><main id="main"><h1>' + escape(title) + "</h1><p>" + escape(text) + "</p>" +
    (list ? "<h2>" + escape(state.kept) + "</h2><ul>" + list + "</ul>" : "") + "</main></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
};

var within = function (promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (r) { clearTimeout(timer); resolve(r); }, function (e) { clearTimeout(timer); reject(e); });
  });
};

var navigate = function (event, url) {
  return readState().then(function (state) {
    var kept = state && state.pages[url.pathname];
    return within(fetch(event.request), kept ? WAIT_MS : 30000).then(function (response) {
      // Keep the list current as pages are visited; after signing out it says to forget.
      event.waitUntil(refresh());
      return response;
    }, function () {
      if (!kept) { return notKept(state); }
      return caches.open(PREFIX + state.user).then(function (cache) { return cache.match(url.pathname); })
        .then(function (cached) { return cached ? withBanner(cached, kept.banner) : notKept(state); });
    });
  });
};

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname === "/offline.json" || url.pathname === "/sw.js") { return; }
  if (request.mode === "navigate") {
    event.respondWith(navigate(event, url));
  } else if (url.pathname.indexOf("/static/") === 0) {
    // The pages' own files: from the network, else as kept.
    event.respondWith(fetch(request).catch(function () {
      return readState().then(function (state) {
        return state ? caches.open(PREFIX + state.user).then(function (c) { return c.match(url.pathname); }) : null;
      }).then(function (r) { return r || Response.error(); });
    }));
  }
});

// The page asks after an act that changes what is kept (a new approval), or to forget.
self.addEventListener("message", function (event) {
  if (event.data === "refresh") { event.waitUntil(refresh()); }
  if (event.data === "forget") { event.waitUntil(forget()); }
});

// Background sync: what was done offline goes as soon as the phone is online, page open or not.
self.addEventListener("sync", function (event) {
  if (event.tag !== "beredskab-offline") { return; }
  event.waitUntil(self.BeredskabQueue.send().then(function (sent) {
    return self.clients.matchAll().then(function (clients) {
      clients.forEach(function (c) { c.postMessage({ type: "synced", sent: sent }); });
    });
  }));
});
