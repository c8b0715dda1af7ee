#!/usr/bin/env bash
# Prepares, on this machine, what a lent GPU machine needs (it has no Rust,
# Node, browser or data), as two carries of the device tool that each fit its
# 64 MiB a call, then prints the two `run` calls. A lent machine can be taken
# back within minutes, so prepare this before asking for one.
#
#   scripts/gpu-carry.sh [lesson]  issue 22: all of CIFAR-10 (scripts/cifar-carry.py)
#                                  for the quick lesson's sweep or the exercise's runs
#   scripts/gpu-carry.sh bench     issue 21: Debian's chromium-headless-shell with its
#                                  libraries, the page's wasm package (target/pkg-gpu,
#                                  scripts/build-page.sh) and a candidate beside it
#                                  (target/pkg-picks, scripts/build-picks.sh), each
#                                  built when older than src/, for scripts/bench-gpu.sh
#
# Both carry the native binary, target/release/vaelab built with
# `cargo build --release --features wgpu --bin vaelab` (~30 min cold; VAELAB_BIN
# names another), and the Vulkan loader. What it made before (target/gpu-carry/)
# is reused while its inputs are unchanged. On the device, scripts/gpu-runs.sh
# reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
job="${1:-lesson}"
case "$job" in lesson|bench) ;; *) sed -n '2,17p' "$0"; exit 2 ;; esac
bin="${VAELAB_BIN:-target/release/vaelab}"
work=target/gpu-carry
limit=$((64 * 1024 * 1024))
[ -x "$bin" ] || { echo "no $bin: cargo build --release --features wgpu --bin vaelab" >&2; exit 1; }
if grep -q 'this vaelab was built without wgpu' "$bin"; then
  echo "$bin was built without wgpu: cargo build --release --features wgpu --bin vaelab" >&2
  exit 1
fi
newer="$(find src Cargo.toml Cargo.lock -newer "$bin" | head -3 | paste -sd' ')"
if [ -n "$newer" ] && [ -z "${VAELAB_BIN:-}" ]; then
  echo "$bin is older than $newer: rebuild it (cargo build --release --features wgpu --bin vaelab), or name it in VAELAB_BIN to carry it anyway" >&2
  exit 1
fi
mkdir -p "$work"

# The payload: what the job needs beyond the binary, one file, made once per content.
if [ "$job" = lesson ]; then
  payload="$work/lesson.tar"
  data="$(scripts/data-root.sh)/cifar-10-batches-bin"
  files=(data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch)
  python=python3
  if ! python3 -c 'import numpy' 2>/dev/null; then
    [ -x target/gpu-venv/bin/python ] || { python3 -m venv target/gpu-venv && target/gpu-venv/bin/pip install -q numpy; }
    python=target/gpu-venv/bin/python
  fi
  # Keyed by content: the shared folder's dates change from session to session.
  (cd "$data" && sha256sum "${files[@]/%/.bin}") >"$work/sums.new"
  if ! cmp -s "$work/sums.new" "$work/sums.txt" || [ ! -f "$payload" ]; then
    for f in "${files[@]}"; do
      echo "encoding $f"
      "$python" scripts/cifar-carry.py enc "$data/$f.bin" "$work/$f.x"
    done
    tar cf "$payload" -C "$work" "${files[@]/%/.x}"
    for f in "${files[@]}"; do rm "$work/$f.x"; done
  fi
  mv "$work/sums.new" "$work/sums.txt"
else
  payload="$work/bench.tar.xz"
  pkg=target/pkg-gpu
  if [ ! -f "$pkg/vaelab_bg.wasm" ] || [ -n "$(find src Cargo.toml Cargo.lock -newer "$pkg/vaelab_bg.wasm" | head -1)" ]; then
    echo "building the wasm package as shipped: $pkg (~12 min)"
    scripts/build-page.sh "$pkg"
  fi
  # The candidate beside it: the same package with autotune's lavapipe kernel picks.
  picks=target/pkg-picks
  if [ ! -f "$picks/vaelab_bg.wasm" ] || [ -n "$(find src Cargo.toml Cargo.lock scripts/kernel-picks.patch -newer "$picks/vaelab_bg.wasm" | head -1)" ]; then
    echo "building the candidate package with kernel picks: $picks (scripts/build-picks.sh)"
    scripts/build-picks.sh "$picks"
  fi
  stage="$work/bench"
  if [ ! -f "$payload" ] || [ -n "$(find "$pkg" "$picks" -newer "$payload" | head -1)" ]; then
    rm -rf "$stage" && mkdir -p "$stage/debs" "$stage/x" "$stage/out/chromium/lib"
    (cd "$stage/debs" && apt-get download chromium-headless-shell chromium-common)
    for f in "$stage"/debs/*.deb; do dpkg -x "$f" "$stage/x"; done
    # The shell, its .pak/ICU/V8 files and ANGLE's and Vulkan's libraries; not
    # the validation layer (23 MB) nor the mock driver.
    cp -r "$stage"/x/usr/lib/chromium/. "$stage/out/chromium/"
    rm -f "$stage"/out/chromium/libVkLayer_* "$stage"/out/chromium/libVkICD_mock_*
    # Every library it links but glibc's, libstdc++'s and zlib's (the machine's own).
    ldd "$stage/out/chromium/chromium-headless-shell" | awk '$3 ~ /^\// { print $3 }' |
      grep -v -E '/(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|libz)\.so' |
      xargs -I{} cp -L {} "$stage/out/chromium/lib/"
    cp -r "$pkg" "$stage/out/pkg-gpu"
    cp -r "$picks" "$stage/out/pkg-picks"
    echo "compressing Chromium and the packages (a few minutes)"
    tar c -C "$stage/out" chromium pkg-gpu pkg-picks | xz -6 -T2 >"$payload"
    rm -rf "$stage"
  fi
fi

# The binary, compressed once per build.
sha="$(sha256sum "$bin" | cut -d' ' -f1)"
if [ "$(cat "$work/vaelab.sha" 2>/dev/null)" != "$sha" ]; then
  echo "compressing $bin"
  xz -9 -T2 -c "$bin" >"$work/vaelab.xz"
  echo "$sha" >"$work/vaelab.sha"
fi

# The Vulkan loader (the device tool's README: the machine may lack it).
if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${o[@]}" update >/dev/null
  (cd .gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

# Two carries: the binary and the payload's first part, then the rest.
rm -rf .carry1 .carry2 && mkdir .carry1 .carry2
cp "$work/vaelab.xz" .carry1/
echo "$job" >.carry1/job
if [ "$job" = lesson ]; then
  cp "$work/sums.txt" .carry1/
  scripts/exercise-runs.mjs >.carry1/exercise-runs.txt
fi
size() { du -cb "$@" | tail -1 | cut -f1; }
tree="$( (git ls-files -z; git ls-files -z -o --exclude-standard) | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')"
margin=$((512 * 1024))
room=$((limit - tree - $(size .gl .carry1) - margin))
rest=$(($(stat -c %s "$payload") - room))
[ $((tree + rest + margin)) -le "$limit" ] || { echo "the payload does not fit two calls ($rest bytes left over)" >&2; exit 1; }
head -c "$room" "$payload" >.carry1/part.1
tail -c +$((room + 1)) "$payload" >.carry2/part.2
echo "call 1: $(( (tree + $(size .gl .carry1)) / 1048576 )) MiB, call 2: $(( (tree + $(size .carry2)) / 1048576 )) MiB (limit 64)"
second="sweep 530   (SEEDS=\"0 1\" bash … in one lease, SEEDS=2 in the next; or: exercise 530)" back="runs.tgz"
again="  run  carry []                timeout_s T+40  command: bash scripts/gpu-runs.sh sweep T
       (at once, on the same machine: it goes on where the last call stopped; T = budget_left_s - 60)"
[ "$job" = bench ] && second="bench 540" back="bench.tgz (and traces/)" again=""
cat <<CALLS
Now, with the device tool, one call after the other on the same warm machine (it is given back 30 s idle):
  run  carry [".gl", ".carry1"]  timeout_s 150  command: bash scripts/gpu-runs.sh setup
  run  carry [".carry2"]         timeout_s 580  command: bash scripts/gpu-runs.sh $second
$again
Then: mkdir -p target/gpu-runs && tar xzf <files_at>/$back -C target/gpu-runs (scripts/gpu-runs.sh says what next)
CALLS
