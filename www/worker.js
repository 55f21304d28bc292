// The numerics worker: loads the same wasm build as the page (www/wasm-select.js: SIMD where
// the browser supports it, else the fallback); its start function sees a worker scope and
// installs the message handler (src/web/worker.rs).
import init from './simscope.js';
import { wasmUrl } from './wasm-select.js';

init({ module_or_path: wasmUrl(self.location.search) }).then((wasm) => {
  // Read by the soak benchmark (scripts/bench-browser.mjs --parts soak): the worker's heap size.
  self.simscopeMemory = wasm.memory;
}).catch((e) => {
  self.postMessage({ id: null, body: { panel: 'worker', response: { kind: 'failed', message: `the worker could not start: ${e}` } } });
});
