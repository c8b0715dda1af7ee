#!/usr/bin/env bash
# Builds the wasm packages and serves VAE Lab at http://localhost:${PORT:-8080}/www/
# with CIFAR-10 from $VAELAB_DATA (default ./data; downloaded if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/get-data.sh
root="$(scripts/data-root.sh)"
echo '[serve] building the wasm packages (pkg/ for WebGPU, pkg-cpu/ for the CPU; the web profile, optimised whole: 10-40 minutes the first time)'
scripts/build-page.sh pkg
# The page fetches its data from www/data/ by default.
rm -f www/data
ln -s "$(cd "$root" && pwd)/cifar-10-batches-bin" www/data
port="${PORT:-8080}"
echo
echo "  VAE Lab: open http://localhost:$port/www/ in Chrome or Edge (WebGPU)"
echo
exec python3 -m http.server "$port" --bind 127.0.0.1
