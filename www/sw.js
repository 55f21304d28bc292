// Offline support: after the first visit the explorer works without a network (lecture halls
// with poor Wi-Fi). Network first, so a deployed update is picked up at once when online;
// the cache answers only when the network fails. Same-origin GETs only.
const CACHE = 'simscope-v2';
// Both wasm builds (SIMD and fallback, see wasm-select.js): a browser that gains or loses SIMD
// support between visits still finds its build offline.
const SHELL = ['./', './index.html', './simscope.js', './simscope_bg.wasm', './simscope_simd_bg.wasm',
  './wasm-select.js', './worker.js', './style.css', './icon.svg'];

self.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  ev.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return res;
      })
      .catch(() => caches.match(req, { ignoreSearch: true }).then((hit) => hit ?? Response.error())),
  );
});
