#!/usr/bin/env bash
# Makes sure CIFAR-10 is at $VAELAB_DATA/cifar-10-batches-bin (VAELAB_DATA
# defaults to ./data). If it is not there, downloads the official
# cifar-10-binary.tar.gz from the dataset authors' page, checks its md5 and unpacks it.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(scripts/data-root.sh)"
dir="$root/cifar-10-batches-bin"
if [ -f "$dir/data_batch_1.bin" ] && [ -f "$dir/test_batch.bin" ]; then
  echo "CIFAR-10 found at $dir"
  exit 0
fi
url="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
md5="c32a1d4ab5d03f1284b67883e8d87530"
mkdir -p "$root"
tarball="$root/cifar-10-binary.tar.gz"
echo "CIFAR-10 not found at $dir; downloading $url (163 MB)"
if ! curl -fL --retry 3 -o "$tarball.part" "$url"; then
  echo "error: could not download CIFAR-10. Put the official cifar-10-binary.tar.gz (or its .bin files)" >&2
  echo "       under $root/ yourself, or set VAELAB_DATA to a folder holding cifar-10-batches-bin/" >&2
  exit 1
fi
got=$(md5sum "$tarball.part" | cut -d' ' -f1)
if [ "$got" != "$md5" ]; then
  echo "error: $url has md5 $got, expected $md5; not using it" >&2
  rm -f "$tarball.part"
  exit 1
fi
mv "$tarball.part" "$tarball"
tar -xzf "$tarball" -C "$root"
echo "CIFAR-10 unpacked into $dir"
