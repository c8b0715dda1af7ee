#!/usr/bin/env python3
"""PyTorch's training throughput on the exercise's own model (the classes of
scripts/pytorch-parity.py), printed like `vaelab bench` so that
scripts/bench-cpu.sh can put the two side by side: the same step (loss,
backward, clip_grad_norm_(1.0), Adam with eps 1e-8) on synthetic images.

    python3 scripts/bench-torch.py [--latent_size 128] [--batch_size 256]
                                   [--steps 6] [--warmup 2] [--threads N]
"""
import argparse
import importlib.util
import os
import time

import torch

spec = importlib.util.spec_from_file_location(
    "parity", os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytorch-parity.py"))
parity = importlib.util.module_from_spec(spec)
spec.loader.exec_module(parity)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latent_size", type=int, default=128)
    ap.add_argument("--batch_size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="0: PyTorch's default")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.rand(a.batch_size, 3, 32, 32) * 2 - 1
    print(f"pytorch {torch.__version__} cpu, {torch.get_num_threads()} threads, latent {a.latent_size}, "
          f"batch {a.batch_size}, {a.steps} timed steps after {a.warmup} warm-up")
    for vae in (False, True):
        net = parity.Net(vae, a.latent_size)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-8)

        def step():
            eps = torch.randn(a.batch_size, a.latent_size) if vae else None
            recon, kl = parity.losses(net, x, eps)
            loss = recon + kl
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            return loss.item()

        for _ in range(a.warmup):
            step()
        start = time.perf_counter()
        for _ in range(a.steps):
            step()
        secs = time.perf_counter() - start
        name = "vae" if vae else "ae"
        print(f"{name:<3}  {a.steps * a.batch_size / secs:8.1f} images/s  {1000 * secs / a.steps:7.1f} ms/step")


if __name__ == "__main__":
    main()
