// Which wasm build to load: the one compiled with SIMD (`+simd128`, dist/simscope_simd_bg.wasm)
// where the browser validates a tiny SIMD module, else the fallback (dist/simscope_bg.wasm).
// Both share the JS glue simscope.js (scripts/build.sh checks they match). The query
// `?wasm=fallback` (or `?wasm=simd`) forces one, e.g. to compare them; the page passes its
// query on to the worker. Relative URLs, so the site works from a sub-path.

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt))
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

export function simdSupported() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** The wasm URL (relative to the site's root) for a page or worker query string. */
export function wasmUrl(search) {
  const forced = new URLSearchParams(search ?? '').get('wasm');
  const simd = forced === 'fallback' ? false : forced === 'simd' ? true : simdSupported();
  return new URL(simd ? './simscope_simd_bg.wasm' : './simscope_bg.wasm', import.meta.url);
}
