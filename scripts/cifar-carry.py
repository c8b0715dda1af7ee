#!/usr/bin/env python3
"""CIFAR-10's .bin files in fewer bytes, losslessly, to carry them to a lent
GPU machine: the device tool moves at most 64 MiB a call, and all of
CIFAR-10 is 184 MB (LZMA alone: 77 %, so three calls with the binary; this:
61 %, two). Each colour plane is predicted pixel by pixel by LOCO-I's median
edge detector (left, up, up-left) and the residuals are LZMA-compressed.

  cifar-carry.py enc data_batch_1.bin data_batch_1.x
  cifar-carry.py dec data_batch_1.x data_batch_1.bin

Needs numpy (the GPU machine's python3 has it; scripts/gpu-carry.sh makes a
venv here when this machine's has not).
"""
import lzma
import sys

import numpy as np

RECORD = 3073  # a label byte, then 32×32 red, green and blue


def predict(left, up, up_left):
    hi, lo = np.maximum(left, up), np.minimum(left, up)
    return np.where(up_left >= hi, lo, np.where(up_left <= lo, hi, left + up - up_left))


def encode(raw):
    records = np.frombuffer(raw, np.uint8).reshape(-1, RECORD)
    px = records[:, 1:].reshape(-1, 3, 32, 32).astype(np.int16)
    left, up, up_left = (np.zeros_like(px) for _ in range(3))
    left[..., :, 1:] = px[..., :, :-1]
    up[..., 1:, :] = px[..., :-1, :]
    up_left[..., 1:, 1:] = px[..., :-1, :-1]
    residual = ((px - predict(left, up, up_left)) & 0xFF).astype(np.uint8)
    return lzma.compress(records[:, 0].tobytes() + residual.tobytes(), preset=6)


def decode(blob):
    raw = lzma.decompress(blob)
    n = len(raw) // RECORD
    labels = np.frombuffer(raw[:n], np.uint8)
    residual = np.frombuffer(raw[n:], np.uint8).reshape(n, 3, 32, 32).astype(np.int16)
    px = np.zeros((n, 3, 33, 33), np.int16)  # a zero row above and column left, as encoded
    for y in range(32):  # each pixel needs its decoded left neighbour: all images at once
        for x in range(32):
            p = predict(px[:, :, y + 1, x], px[:, :, y, x + 1], px[:, :, y, x])
            px[:, :, y + 1, x + 1] = (p + residual[:, :, y, x]) & 0xFF
    out = np.empty((n, RECORD), np.uint8)
    out[:, 0] = labels
    out[:, 1:] = px[:, :, 1:, 1:].reshape(n, 3072)
    return out.tobytes()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("enc", "dec"):
        sys.exit(__doc__)
    verb, src, dst = sys.argv[1:]
    with open(src, "rb") as f:
        data = f.read()
    if verb == "enc" and len(data) % RECORD:
        sys.exit(f"{src}: {len(data)} bytes is no whole number of CIFAR-10 records ({RECORD} bytes)")
    with open(dst, "wb") as f:
        f.write(encode(data) if verb == "enc" else decode(data))
