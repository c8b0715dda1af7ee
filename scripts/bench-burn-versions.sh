#!/usr/bin/env bash
# Is a newer Burn faster on the CPU? The exercise's AE step on `flex`
# (forward, squared error, backward; src/model.rs itself) built against each
# Burn version named, the versions alternated ROUNDS times (default 2) in one
# run: latent 128, batch 256 on all cores and batch 16 on one thread.
#
#   scripts/bench-burn-versions.sh 0.22.1 0.23.0-pre.1
#
# Each version builds in target/burn-versions/<version> (a few minutes the
# first time). glibc is kept from unmapping freed tensors, as `vaelab` does
# with mallopt (src/main.rs), through the same three settings.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 VERSION..." >&2; exit 2; }
ROUNDS="${ROUNDS:-2}"
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824:glibc.malloc.top_pad=268435456
for v in "$@"; do
  dir="target/burn-versions/$v"
  mkdir -p "$dir"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "burn-version-bench"
version = "0.1.0"
edition = "2024"
[[bin]]
name = "burn-version-bench"
path = "$PWD/scripts/bench-burn-versions.rs"
[dependencies]
burn = { version = "=$v", default-features = false, features = ["std", "autodiff", "flex", "rayon", "simd"] }
[profile.release]
opt-level = 3
lto = "thin"
codegen-units = 4
[workspace]
TOML
  echo "[bench-burn-versions] building Burn $v" >&2
  (cd "$dir" && cargo build --release --quiet)
done
for round in $(seq "$ROUNDS"); do
  for v in "$@"; do
    bin="target/burn-versions/$v/target/release/burn-version-bench"
    echo "round $round, Burn $v, all cores: $("$bin" 256 4)"
    echo "round $round, Burn $v, one thread: $(RAYON_NUM_THREADS=1 "$bin" 16 10)"
  done
done
