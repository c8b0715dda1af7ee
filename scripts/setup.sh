#!/usr/bin/env bash
# Installs what VAE Lab builds and tests with, skipping what is already there:
# the wasm32 target, wasm-pack, wasm-bindgen-cli at the crate's exact version,
# and (with --browser) Chromium + ChromeDriver and Firefox ESR from Debian,
# geckodriver from crates.io, and the npm packages of the end-to-end tests.
#
# On a new machine this is minutes of compiling (BENCHMARKS.md, "CI, cold"):
# the Debian and npm downloads run beside the compiles, and the three tools
# build into one target folder so the crates they share compile once.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=0
[ "${1:-}" = "--browser" ] && browser=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# Debian's packages, in the background: they only wait on the network and dpkg.
apt_pid=""
apt_log="$(mktemp)"
if [ "$browser" = 1 ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v firefox-esr >/dev/null || command -v firefox >/dev/null || missing+=(firefox-esr)
  # Firefox's WebGPU needs a Vulkan driver: Mesa's lavapipe (Chromium brings SwiftShader).
  ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} from Debian (in the background)"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    (
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    ) >"$apt_log" 2>&1 &
    apt_pid=$!
  fi
  if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
    say "installing the end-to-end test packages (npm ci)"
    npm ci --no-audit --no-fund
  fi
fi

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The tools compile into one folder (kept under target/, so a second checkout's
# first run, or a tool's upgrade, reuses what is there).
tools_target="$PWD/target/tools"
install() { cargo install --target-dir "$tools_target" "$@"; }
# wasm-pack and geckodriver only start other programs and pass messages: they
# compile unoptimised (72 + 62 s here, against 167 + 138 s in release;
# BENCHMARKS.md, "CI, cold"). wasm-bindgen-cli stays optimised: it rewrites
# every test's 80 MB wasm.
install_unoptimised() { install --debug --config profile.dev.debug=false "$@"; }

if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (a few minutes, once)"
  install_unoptimised wasm-pack
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
# Without its default `rustls-tls`: its test runner speaks plain HTTP to the
# local ChromeDriver or geckodriver, and TLS (rustls, ring's C and assembly)
# is 11 of its 185 crates: 125 s to build instead of 160 (BENCHMARKS.md, "CI, cold").
want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (a few minutes, once)"
  install wasm-bindgen-cli --version "$want" --no-default-features --force
fi

if [ "$browser" = 1 ] && ! command -v geckodriver >/dev/null; then
  say "installing geckodriver for the Firefox browser tests (a few minutes, once)"
  install_unoptimised geckodriver --locked
fi

if [ -n "$apt_pid" ]; then
  if ! wait "$apt_pid"; then
    cat "$apt_log" >&2
    say "installing the browsers from Debian failed (above)"
    exit 1
  fi
  say "Debian's packages are in"
fi
rm -f "$apt_log"
