#!/usr/bin/env bash
# Every test layer, in order, stopping at the first failure; prints a summary at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

layers=(
  "format|cargo fmt --all --check && cargo fmt --manifest-path python/Cargo.toml --check"
  "clippy (host)|cargo clippy --all-targets -- -D warnings && cargo clippy --manifest-path python/Cargo.toml --all-targets -- -D warnings"
  "clippy (wasm32)|cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings"
  "native tests + doctests|cargo test"
  "Python package (pytest)|.venv-python/bin/python -m pytest -q python/tests"
  "wasm tests in headless Chromium|cargo test --target wasm32-unknown-unknown --lib --tests"
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
