#!/usr/bin/env bash
# Installs what VAE Lab builds and tests with, skipping what is already there:
# the wasm32 target, wasm-pack, wasm-bindgen-cli at the crate's exact version,
# and (with --browser) Chromium + ChromeDriver and Firefox ESR from Debian,
# geckodriver from crates.io, and the npm packages of the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=0
[ "${1:-}" = "--browser" ] && browser=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (a few minutes, once)"
  cargo install wasm-pack
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$want" --force
fi

if [ "$browser" = 1 ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v firefox-esr >/dev/null || command -v firefox >/dev/null || missing+=(firefox-esr)
  # Firefox's WebGPU needs a Vulkan driver: Mesa's lavapipe (Chromium brings SwiftShader).
  ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} from Debian"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
  if ! command -v geckodriver >/dev/null; then
    say "installing geckodriver for the Firefox browser tests (a few minutes, once)"
    cargo install geckodriver --locked
  fi
  if [ ! -d node_modules/playwright-core ]; then
    say "installing the end-to-end test packages (npm ci)"
    npm ci --no-audit --no-fund
  fi
fi
