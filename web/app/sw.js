// The engineer app's service worker (scope /app/): the app shell is precached under a versioned
// cache, so the app opens with no network. API answers are never cached: the data lives in
// IndexedDB, written by the app itself. A new worker waits until the page asks it to take over
// (the "new version is ready — reload" prompt), so old and new modules never mix.

// The shell's digest (tests/web/test_engineer_app.py computes it and names the value when stale):
// any changed file gives a new cache, a new worker and the reload prompt.
const VERSION = "fsd-app-1b1d1fd6681c";
const PREFIX = "fsd-app-";

// The app shell, in one place (tests check that every file of web/app/ is listed).
const SHELL = [
  "./",
  "index.html",
  "app.css",
  "manifest.webmanifest",
  "icon.svg",
  "icon-192.png",
  "icon-512.png",
  "main.js",
  "actions.js",
  "geo.js",
  "i18n.js",
  "ids.js",
  "model.js",
  "outbox.js",
  "photo.js",
  "store.js",
  "sync.js",
  "scan.js",
  "syncbar.js",
  "views/route.js",
  "views/field.js",
  "views/later.js",
  "views/signin.js",
  "views/sign.js",
  "views/stock.js",
  "views/visit.js",
  "views/inspection.js",
  "../dom.js",
  "../vendor/idb/idb.js",
  "../vendor/signature_pad/signature_pad.js",
  "../vendor/jsqr/jsQR.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(VERSION).then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: "reload" })))),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== VERSION) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) return; // never cached: straight to the network
  if (request.mode === "navigate" && url.pathname.startsWith("/app/")) {
    event.respondWith(caches.match("index.html", { cacheName: VERSION }).then((hit) => hit || fetch(request)));
    return;
  }
  event.respondWith(caches.match(request, { cacheName: VERSION }).then((hit) => hit || fetch(request)));
});
