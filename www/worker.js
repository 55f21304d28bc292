// The numerics worker: loads the same wasm module as the page; its start function sees a
// worker scope and installs the message handler (src/web/worker.rs).
import init from './simscope.js';

init().catch((e) => {
  self.postMessage({ id: null, body: { kind: 'error', message: `the worker could not start: ${e}` } });
});
