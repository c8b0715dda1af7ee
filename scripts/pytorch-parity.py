#!/usr/bin/env python3
"""The exercise's three PyTorch steps of shared/fixtures/pytorch-parity, repeated
in float32 and in float64, to see how far PyTorch's own float32 result lies
from the float64 one, number by number (tests/parity/float64.json holds the
float64 numbers this prints with --json). Needs torch and safetensors (a venv:
`pip install torch safetensors`); not part of the tests.

    python3 scripts/pytorch-parity.py [--json] [--ours DIR]

--ours DIR also compares DIR/{ae16,vae16}_after3.safetensors (our weights after
the three steps) with PyTorch's float32 and float64 weights."""
import json, os, sys, struct
import torch
from torch import nn
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.abspath(__file__)) + '/..'
DATA = os.environ.get('VAELAB_DATA') or (ROOT + '/data' if os.path.exists(ROOT + '/data') else ROOT + '/../shared/data')
FIX = DATA + '/../fixtures/pytorch-parity'


class Encoder(nn.Module):
    def __init__(self, out):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
                                   nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU(), nn.Conv2d(128, 256, 3, 2, 1))
        self.fc = nn.Linear(4096, out)

    def forward(self, x):
        return self.fc(self.convs(x).flatten(1))


class Decoder(nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.fc = nn.Linear(latent, 4096)
        self.deconvs = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 3, 3, 1, 1))

    def forward(self, z):
        return self.deconvs(self.fc(z).view(-1, 256, 4, 4))


class Net(nn.Module):
    def __init__(self, vae, latent):
        super().__init__()
        self.vae, self.latent = vae, latent
        self.encoder = Encoder(2 * latent if vae else latent)
        self.decoder = Decoder(latent)


def records(path, n):
    raw = open(path, 'rb').read()[: n * 3073]
    x = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(n, 3073)[:, 1:].reshape(n, 3, 32, 32)
    return x.double() / 127.5 - 1


def losses(net, x, eps):
    h = net.encoder(x)
    if not net.vae:
        return ((x - net.decoder(h)) ** 2).sum() / len(x), torch.zeros((), dtype=x.dtype)
    mu, log_std = h[:, : net.latent], h[:, net.latent:]
    z = mu if eps is None else mu + torch.exp(log_std) * eps
    recon = ((x - net.decoder(z)) ** 2).sum() / len(x)
    kl = (0.5 * (mu ** 2 + torch.exp(2 * log_std) - 1) - log_std).sum() / len(x)
    return recon, kl


def run(name, dtype):
    vae = name.startswith('vae')
    net = Net(vae, 16)
    net.load_state_dict(load_file(f'{FIX}/{name}_init.safetensors'))
    net.to(dtype)
    train = records(f'{DATA}/cifar-10-batches-bin-mini/data_batch_1.bin', 96).to(dtype)
    test = records(f'{DATA}/cifar-10-batches-bin-mini/test_batch.bin', 500).to(dtype)
    eps = load_file(f'{FIX}/vae16_eps.safetensors')['eps'].to(dtype)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-8)
    out = {}
    with torch.no_grad():
        r, k = losses(net, test, None)
        out['eval_init'] = {'recon_at_mean': r.item(), 'kl': k.item()}
    out['steps'] = []
    for s in range(3):
        x = train[32 * s: 32 * s + 32]
        r, k = losses(net, x, eps[s] if vae else None)
        total = r + k
        opt.zero_grad()
        total.backward()
        norm = torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        out['steps'].append({'recon': r.item(), 'kl': k.item(), 'total': total.item(),
                             'grad_global_norm_before_clip': norm.item()})
    with torch.no_grad():
        r, k = losses(net, test, None)
        out['eval_after'] = {'recon_at_mean': r.item(), 'kl': k.item()}
    return out, {k: v.detach().double() for k, v in net.state_dict().items()}


def distance(a, b, init):
    d = sum(((a[k] - b[k]) ** 2).sum() for k in init)
    m = sum(((b[k] - init[k]) ** 2).sum() for k in init)
    return (d / m).sqrt().item()


def main():
    ours = sys.argv[sys.argv.index('--ours') + 1] if '--ours' in sys.argv else None
    report = {}
    for name in ['ae16', 'vae16']:
        f32, w32 = run(name, torch.float32)
        f64, w64 = run(name, torch.float64)
        init = {k: v.double() for k, v in load_file(f'{FIX}/{name}_init.safetensors').items()}
        fixture = {k: v.double() for k, v in load_file(f'{FIX}/{name}_after3.safetensors').items()}
        report[name] = f64
        print(f'== {name}: float32 run vs the fixture weights {distance(w32, fixture, init):.2e}; '
              f'float32 vs float64 weights {distance(w32, w64, init):.2e}')
        rows = [('eval_init', f32['eval_init'], f64['eval_init'])] + \
               [(f'step {s + 1}', a, b) for s, (a, b) in enumerate(zip(f32['steps'], f64['steps']))] + \
               [('eval_after', f32['eval_after'], f64['eval_after'])]
        for label, a, b in rows:
            for key in a:
                rel = abs(a[key] - b[key]) / abs(b[key]) if b[key] else abs(a[key])
                print(f'  {label:<10} {key:<30} f32 {a[key]:>14.7f}  f64 {b[key]:>14.7f}  rel {rel:.2e}')
        if ours:
            mine = {k: v.double() for k, v in load_file(f'{ours}/{name}_after3.safetensors').items()}
            print(f'  ours vs PyTorch float32 {distance(mine, w32, init):.2e}, vs float64 {distance(mine, w64, init):.2e}')
    if '--json' in sys.argv:
        print(json.dumps(report, indent=1))


if __name__ == '__main__':
    main()
