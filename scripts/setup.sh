#!/usr/bin/env bash
# Install what simscope's build and tests need, skipping anything already present at the
# right version. Tools go outside the clone (~/.cargo/bin, apt), so later runs reuse them.
#
#   scripts/setup.sh build   # wasm32 target, trunk, wasm-bindgen-cli, npm devDependencies
#   scripts/setup.sh test    # the above + Debian chromium and chromium-driver, and the Python
#                            # package in its own venv (.venv-python/, pinned from PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# Must equal the `wasm-bindgen` pin in Cargo.toml (the CLI and crate versions must match).
WASM_BINDGEN_VERSION=0.2.129
mode=${1:-build}

if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "wasm32-unknown-unknown target present"
else
  say "adding the wasm32-unknown-unknown target (~15 s)"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "wasm-bindgen-cli $WASM_BINDGEN_VERSION present"
else
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (~6 min on 2 cores)"
  cargo install --locked --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(trunk --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then
  say "trunk $TRUNK_VERSION present"
else
  say "installing trunk $TRUNK_VERSION (~12 min on 2 cores)"
  cargo install --locked --force trunk --version "$TRUNK_VERSION"
fi

# npm devDependencies (binaryen's wasm-opt, playwright-core), from the lock file.
if [ -x node_modules/.bin/wasm-opt ] && [ -d node_modules/playwright-core ] \
   && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  say "npm devDependencies present"
else
  say "installing npm devDependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

if [ "$mode" = test ]; then
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    say "chromium and chromedriver present"
  else
    say "installing Debian chromium and chromium-driver (~90 s)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
  fi
fi

if [ "$mode" = test ]; then
  # The Python layer: a venv in the clone (git-ignored) with the pinned test requirements
  # (maturin, NumPy, pytest, Dask), then the package built from this clone with the same
  # command a user runs (pip install ./python; maturin compiles the core in release mode).
  venv=.venv-python
  if [ -x "$venv/bin/python" ]; then
    say "Python venv $venv present"
  else
    say "creating the Python venv $venv"
    python3 -m venv "$venv"
  fi
  if cmp -s python/requirements-test.txt "$venv/.requirements-test.txt"; then
    say "Python test requirements present"
  else
    say "installing the Python test requirements (python/requirements-test.txt, from PyPI)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
    cp python/requirements-test.txt "$venv/.requirements-test.txt"
  fi
  # Rebuilt only when the core or the package changed (a hash of their files' contents).
  stamp=$(git ls-files -co --exclude-standard Cargo.toml Cargo.lock src python | sort | xargs sha256sum | sha256sum)
  if [ "$(cat "$venv/.simscope-sources" 2>/dev/null)" = "$stamp" ] \
     && "$venv/bin/python" -c "import simscope" 2>/dev/null; then
    say "Python package simscope up to date"
  else
    say "building and installing the Python package (pip install ./python; ~5 min on 2 cores)"
    # The venv's bin first on PATH: the build backend runs the venv's maturin. Its own target
    # dir (python/target): the core is a cdylib, whose rlib cargo names without a hash, so a
    # CARGO_TARGET_DIR shared with the main workspace lets one build overwrite the other's.
    PATH="$PWD/$venv/bin:$PATH" "$venv/bin/pip" install --quiet --disable-pip-version-check \
      --no-build-isolation --no-deps --force-reinstall ./python
    echo "$stamp" > "$venv/.simscope-sources"
  fi
fi

say "fetching crates (Trunk's cargo metadata must not need the network later)"
cargo fetch --locked
