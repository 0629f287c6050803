"""Time to load both Fashion-MNIST splits from the IDX files and iterate one training epoch of batches (no model).

    python bench/data.py [--bs 128] [--repeats 3]

Compares with a baseline a user would otherwise write: a torch Dataset that converts each image separately
(per-item resize with F.interpolate and scaling) behind a default DataLoader.
"""
import argparse
import platform
import time

import torch
import torch.nn.functional as F

from slowai.prelude import get_dls, load_fashion_mnist


class PerItem(torch.utils.data.Dataset):
    def __init__(self, x, y): self.x, self.y = x, y
    def __len__(self): return len(self.x)
    def __getitem__(self, i):
        im = F.interpolate(self.x[i][None, None].float(), size=(32, 32), mode='bicubic').clamp(0, 255)[0]
        return im / 255 - 0.5, self.y[i]


def ours(bs):
    t0 = time.perf_counter()
    dls = get_dls(bs=bs, seed=0)
    t_load = time.perf_counter() - t0
    n = sum(len(xb) for xb, _ in dls.train)
    return t_load, time.perf_counter() - t0, n


def baseline(bs):
    t0 = time.perf_counter()
    x, y = load_fashion_mnist('train')
    load_fashion_mnist('test')
    t_load = time.perf_counter() - t0
    dl = torch.utils.data.DataLoader(PerItem(x, y), batch_size=bs, shuffle=True)
    n = sum(len(xb) for xb, _ in dl)
    return t_load, time.perf_counter() - t0, n


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bs', type=int, default=128)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--no-baseline', action='store_true')
    a = ap.parse_args()
    print(f'machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads; '
          f'python {platform.python_version()}, torch {torch.__version__}; bs={a.bs}')
    best = min((ours(a.bs) for _ in range(a.repeats)), key=lambda r: r[1])
    print(f'slowai   : load+convert both splits {best[0]:.2f}s, + one epoch ({best[2]} images) = {best[1]:.2f}s total')
    if not a.no_baseline:
        b = baseline(a.bs)
        print(f'per-item : load both splits {b[0]:.2f}s, + one epoch ({b[2]} images) = {b[1]:.2f}s total')
        print(f'speed-up : {b[1]/best[1]:.1f}x')
