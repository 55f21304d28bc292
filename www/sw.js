// Offline support: after the first visit the explorer works without a network (lecture halls
// with poor Wi-Fi). Network first, so a deployed update is picked up at once when online;
// the cache answers only when the network fails. Same-origin GETs only.
const CACHE = 'simscope-v3';
// Only the wasm build this browser runs (SIMD or fallback, see wasm-select.js): the page
// names it in this script's URL (`sw.js?wasm=…`). Precaching both doubled the first visit's
// download for a file the browser never loads. A browser that gains or loses SIMD support
// registers a different URL, so the worker updates and caches the other build.
const BUILDS = ['simscope_simd_bg.wasm', 'simscope_bg.wasm'];
const asked = new URL(self.location.href).searchParams.get('wasm');
const WASM = BUILDS.includes(asked) ? asked : BUILDS[0];
const SHELL = ['./', './index.html', './simscope.js', `./${WASM}`, './wasm-select.js', './worker.js',
  './style.css', './icon.svg'];

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
