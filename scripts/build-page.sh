#!/usr/bin/env bash
# Builds the wasm packages the page loads, as a class gets them: WebGPU's
# engine into $1 (default pkg/) and the CPU fallback's into $1-cpu (pkg-cpu/),
# one engine per package, each at Cargo's `web` profile (Cargo.toml says
# why). A browser loads only the package its engine needs. serve.sh and the
# GPU benchmark scripts build through here, so what is measured is what ships.
#
#   scripts/build-page.sh [DIR [CARGO ARGS...]]
#
# ENGINES (default "webgpu cpu") builds fewer; PROFILE=dev builds Cargo's dev
# profile instead (test.sh: the page tests' packages, quicker to build); cargo
# arguments after DIR go to every build (build-picks.sh gives a candidate's
# [patch] so).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-pkg}"
shift || true
profile=(--profile "${PROFILE:-web}")
[ "${PROFILE:-web}" = dev ] && profile=(--dev)
build() { wasm-pack build "${profile[@]}" --target web --out-dir "$1" --no-typescript --no-pack -- --no-default-features --features "$2" "${@:3}"; }
for engine in ${ENGINES:-webgpu cpu}; do
  case "$engine" in
    webgpu) build "$out" webgpu "$@" ;;
    cpu) build "$out-cpu" cpu "$@" ;;
    *) echo "ENGINES: no engine '$engine' (webgpu, cpu)" >&2; exit 2 ;;
  esac
done
