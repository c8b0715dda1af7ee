#!/usr/bin/env bash
# Builds a candidate WebGPU package, not the shipped one, for a GPU session to
# measure beside it: the page's package as scripts/build-page.sh builds it, but
# with Burn's convolution kernels chosen as autotune chooses them natively on
# lavapipe (BENCHMARKS.md, "One Vulkan driver for both sides", third look):
# transposed convolutions by col2im and strided convolutions' weight gradients
# by im2col, where the browser, without autotune, runs the direct kernels.
# On lavapipe WebGPU's bounds checks undo their gain; whether a real GPU keeps
# it is what the GPU session measures (scripts/gpu-carry.sh bench carries
# the package when it exists, scripts/gpu-runs.sh bench compares it).
#
#   scripts/build-picks.sh [DIR]   (default target/pkg-picks)
#
# The picks are scripts/kernel-picks.patch, applied to a copy of burn-cubecl
# (the version Cargo.lock names) that this build alone uses, through Cargo's
# [patch] given on the command line; Cargo.lock is put back as it was.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/pkg-picks}"
version="$(awk '/^name = "burn-cubecl"$/ { getline; print $3 }' Cargo.lock | tr -d '"')"
[ -n "$version" ] || { echo "Cargo.lock names no burn-cubecl" >&2; exit 1; }
registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
src="$(ls -d "$registry"/*/"burn-cubecl-$version" 2>/dev/null | head -1 || true)"
if [ -z "$src" ]; then
  cargo fetch --target wasm32-unknown-unknown
  src="$(ls -d "$registry"/*/"burn-cubecl-$version" | head -1)"
fi
copy="$PWD/target/picks/burn-cubecl"
rm -rf "$copy" && mkdir -p "$(dirname "$copy")" && cp -r "$src" "$copy"
patch -s -N -d "$copy" -p1 <scripts/kernel-picks.patch ||
  { echo "scripts/kernel-picks.patch does not apply to burn-cubecl $version (written for 0.22.1): update the patch" >&2; exit 1; }
cp -p Cargo.lock target/picks/Cargo.lock.kept
trap 'cp -p target/picks/Cargo.lock.kept Cargo.lock' EXIT
ENGINES=webgpu scripts/build-page.sh "$out" --config "patch.crates-io.burn-cubecl.path=\"$copy\""
