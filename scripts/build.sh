#!/usr/bin/env bash
# Build the static site into dist/ (release, wasm-opt'd). Offline-safe: see Trunk.toml.
# Two wasm builds of the same crate: simscope_bg.wasm (Trunk's, no SIMD: the fallback) and
# simscope_simd_bg.wasm (RUSTFLAGS=+simd128); www/wasm-select.js picks one at run time.
# They share the JS glue simscope.js: the build fails if wasm-bindgen's glue code differs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

# A second build of an unchanged tree is skipped (issue 16: `make serve` re-ran wasm-opt on
# both builds, ~100 s, for nothing). The stamp hashes every input of the site and the tools'
# versions; SIMSCOPE_REBUILD=1 forces a build.
stamp() {
  { find src www datasets index.html Cargo.toml Cargo.lock Trunk.toml scripts/build.sh \
      -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum
    rustc --version; trunk --version; wasm-bindgen --version; wasm-opt --version; } | sha256sum
}
inputs=$(stamp)
if [ "${SIMSCOPE_REBUILD:-0}" != 1 ] && [ -f dist/.inputs ] && [ "$(cat dist/.inputs)" = "$inputs" ] \
   && [ -f dist/index.html ] && [ -f dist/simscope_bg.wasm ] && [ -f dist/simscope_simd_bg.wasm ]; then
  echo "build.sh: dist/ is up to date with its inputs (SIMSCOPE_REBUILD=1 to rebuild)"
  exit 0
fi
rm -f dist/.inputs

cargo fetch --locked >/dev/null
trunk build --config Trunk.toml

# The SIMD build, in its own target directory: other RUSTFLAGS would otherwise invalidate
# the fallback's compiled dependencies at every build.
target_dir="${CARGO_TARGET_DIR:-target}/simd"
RUSTFLAGS="-C target-feature=+simd128" cargo build --release --locked \
  --target wasm32-unknown-unknown --no-default-features --lib --target-dir "$target_dir"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$stage" --out-name simscope \
  "$target_dir/wasm32-unknown-unknown/release/simscope.wasm"
# Compared without `//` comment lines: wasm-bindgen's comments number closure shims in
# compilation order, which the SIMD codegen may change; the code itself must be identical.
code() { grep -v '^[[:space:]]*//' "$1"; }
if ! cmp -s <(code "$stage/simscope.js") <(code dist/simscope.js); then
  echo "build.sh: the SIMD build's JS glue differs from the fallback's (dist/simscope.js)" >&2
  diff <(code "$stage/simscope.js") <(code dist/simscope.js) | head -20 >&2 || true
  exit 1
fi
# Same optimisation level as Trunk's (index.html: data-wasm-opt="3").
wasm-opt -O3 --enable-simd "$stage/simscope_bg.wasm" -o dist/simscope_simd_bg.wasm

# The page's loader (Trunk's) loads the build wasm-select.js picks, like the worker, and does
# not preload the fallback (a SIMD browser would fetch it for nothing).
node - <<'JS'
const fs = require('node:fs');
let html = fs.readFileSync('dist/index.html', 'utf8');
const load = "const wasm = await init({ module_or_path: './simscope_bg.wasm' });";
const preload = /<link rel="preload" href="\.\/simscope_bg\.wasm"[^>]*>/;
if (html.split(load).length !== 2 || !preload.test(html)) {
  console.error("build.sh: Trunk's wasm loader in dist/index.html is not the expected one");
  process.exit(1);
}
html = html.replace(load, "import { wasmUrl } from './wasm-select.js';\n"
  + 'const wasm = await init({ module_or_path: wasmUrl(location.search) });');
html = html.replace(preload, '');
// Privacy enforced by the browser (a meta tag, so it holds on any static host): scripts, wasm,
// workers and connections from this origin only; the inline scripts (Trunk's loader, the
// service worker registration) allowed by their hashes, nothing else inline.
const crypto = require('node:crypto');
const hashes = [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)]
  .map((m) => `'sha256-${crypto.createHash('sha256').update(m[1]).digest('base64')}'`);
const csp = ["default-src 'self'", `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`,
  "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:", "connect-src 'self'",
  "worker-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'none'"].join('; ');
if (!html.includes('<meta charset="utf-8">')) {
  console.error('build.sh: no <meta charset="utf-8"> in dist/index.html to put the CSP after');
  process.exit(1);
}
html = html.replace('<meta charset="utf-8">',
  `<meta charset="utf-8">\n  <meta http-equiv="Content-Security-Policy" content="${csp}">`);
fs.writeFileSync('dist/index.html', html);
JS
echo "wasm: fallback $(stat -c %s dist/simscope_bg.wasm) B, simd $(stat -c %s dist/simscope_simd_bg.wasm) B"
echo "$inputs" > dist/.inputs
echo "built dist/ ($(du -sh dist | cut -f1))"
