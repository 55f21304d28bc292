#!/usr/bin/env bash
# Build the static site into dist/ (release, wasm-opt'd). Offline-safe: see Trunk.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
cargo fetch --locked >/dev/null
trunk build --config Trunk.toml
echo "built dist/ ($(du -sh dist | cut -f1))"
