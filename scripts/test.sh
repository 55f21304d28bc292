#!/usr/bin/env bash
# Every test layer, in order, stopping at the first failure; prints a summary at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

layers=(
  "format|cargo fmt --all --check && cargo fmt --manifest-path python/Cargo.toml --check"
  "clippy (host)|cargo clippy --all-targets -- -D warnings && cargo clippy --manifest-path python/Cargo.toml --all-targets -- -D warnings"
  # wasm32 is linted and tested with +simd128 in target/simd (scripts/build.sh's SIMD build has
  # its own target directory too, so these flags never thrash the plain wasm32 artifacts): that
  # build is what browsers run and the only one with our own GEMM kernel (src/linalg/simd128.rs).
  # The fallback build differs only by taking matrixmultiply's scalar path, linted natively and
  # run end to end by tests/e2e/wasm.test.mjs.
  "clippy (wasm32, SIMD build)|RUSTFLAGS='-C target-feature=+simd128' CARGO_TARGET_DIR=\"\${CARGO_TARGET_DIR:-target}/simd\" cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings"
  "native tests + doctests|cargo test"
  "Python package (pytest)|.venv-python/bin/python -m pytest -q python/tests"
  "wasm tests in headless Chromium (SIMD build)|RUSTFLAGS='-C target-feature=+simd128' CARGO_TARGET_DIR=\"\${CARGO_TARGET_DIR:-target}/simd\" cargo test --target wasm32-unknown-unknown --lib --tests"
  "site build (trunk, release)|scripts/build.sh"
  "end-to-end (Playwright)|node --test --test-concurrency=1 tests/e2e/"
)

passed=0; failed=0; results=()
for entry in "${layers[@]}"; do
  name=${entry%%|*}; cmd=${entry#*|}
  if [ "$failed" -gt 0 ]; then results+=("SKIP  $name"); continue; fi
  printf '\n\033[1m==> %s\033[0m  (%s)\n' "$name" "$cmd"
  start=$SECONDS
  if bash -c "$cmd"; then
    passed=$((passed + 1)); results+=("PASS  $name  ($((SECONDS - start)) s)")
  else
    failed=$((failed + 1)); results+=("FAIL  $name  ($((SECONDS - start)) s)")
  fi
done

printf '\n\033[1mTest summary\033[0m\n'
printf '  %s\n' "${results[@]}"
echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
