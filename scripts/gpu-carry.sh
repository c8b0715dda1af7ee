#!/usr/bin/env bash
# Prepares, on this machine, what a lent GPU machine needs for issue 22's
# runs: the native wgpu binary, all of CIFAR-10 (scripts/cifar-carry.py) and
# the Vulkan loader, as two carries that each fit the device tool's 64 MiB a
# call, then prints the two `run` calls. A lent machine can be taken back
# within minutes, so prepare this before asking for one.
#
#   scripts/gpu-carry.sh        needs target/release/vaelab built with
#                               `cargo build --release --features wgpu --bin vaelab`
#                               (~30 min cold); VAELAB_BIN names another
#
# Reuses what it made before (target/gpu-carry/) while the data and the
# binary are unchanged. On the device, scripts/gpu-runs.sh reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${VAELAB_BIN:-target/release/vaelab}"
data="$(scripts/data-root.sh)/cifar-10-batches-bin"
work=target/gpu-carry
limit=$((64 * 1024 * 1024))
[ -x "$bin" ] || { echo "no $bin: cargo build --release --features wgpu --bin vaelab" >&2; exit 1; }
"$bin" bench --help | grep -q 'wgpu: ' || { echo "$bin has no wgpu device" >&2; exit 1; }
mkdir -p "$work"
files=(data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch)

python=python3
if ! python3 -c 'import numpy' 2>/dev/null; then
  [ -x target/gpu-venv/bin/python ] || { python3 -m venv target/gpu-venv && target/gpu-venv/bin/pip install -q numpy; }
  python=target/gpu-venv/bin/python
fi

# The data, encoded once per content (the shared folder's dates change).
(cd "$data" && sha256sum "${files[@]/%/.bin}") >"$work/sums.new"
if ! cmp -s "$work/sums.new" "$work/sums.txt" || [ ! -f "$work/all.tar" ]; then
  for f in "${files[@]}"; do
    echo "encoding $f"
    "$python" scripts/cifar-carry.py enc "$data/$f.bin" "$work/$f.x"
  done
  tar cf "$work/all.tar" -C "$work" "${files[@]/%/.x}"
  for f in "${files[@]}"; do rm "$work/$f.x"; done
  mv "$work/sums.new" "$work/sums.txt"
else
  rm "$work/sums.new"
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

# Two carries: the binary and the data's first part, then the rest.
rm -rf .carry1 .carry2 && mkdir .carry1 .carry2
cp "$work/vaelab.xz" "$work/sums.txt" .carry1/
scripts/exercise-runs.mjs >.carry1/exercise-runs.txt
size() { du -cb "$@" | tail -1 | cut -f1; }
tree="$( (git ls-files -z; git ls-files -z -o --exclude-standard) | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')"
margin=$((512 * 1024))
room=$((limit - tree - $(size .gl .carry1) - margin))
rest=$(($(stat -c %s "$work/all.tar") - room))
[ $((tree + rest + margin)) -le "$limit" ] || { echo "the data does not fit two calls ($rest bytes left over)" >&2; exit 1; }
head -c "$room" "$work/all.tar" >.carry1/part.1
tail -c +$((room + 1)) "$work/all.tar" >.carry2/part.2
echo "call 1: $(( (tree + $(size .gl .carry1)) / 1048576 )) MiB, call 2: $(( (tree + $(size .carry2)) / 1048576 )) MiB (limit 64)"
cat <<'CALLS'
Now, with the device tool, one call after the other on the same warm machine (it is given back 30 s idle):
  run  carry [".gl", ".carry1"]  timeout_s 240  command: bash scripts/gpu-runs.sh setup
  run  carry [".carry2"]         timeout_s 600  command: bash scripts/gpu-runs.sh sweep 480
       (or: bash scripts/gpu-runs.sh exercise 540)
Then: mkdir -p target/gpu-runs && tar xzf <files_at>/runs.tgz -C target/gpu-runs (scripts/gpu-runs.sh says what next)
CALLS
