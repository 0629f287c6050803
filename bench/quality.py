"""FID and KID floor of the shipped feature classifier, and optionally the scores of a file of generated samples.

    python bench/quality.py [--n 10000] [--samples PATH] [--subsets 100] [--subset-size 1000] [--threads N]

The floor is the distance between `n` training images and `n` test images: two samples of the same distribution,
so no generator can expect a better score at the same `n`. `--samples` scores a tensor file of generated images
`[N,1,32,32]` in [-0.5, 0.5] (a .pt file holding one tensor, loaded with `weights_only=True`, or a .safetensors
file holding one tensor or a tensor named `images` or `samples`) against the test split, with `n` = N.
"""
import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import torch

import slowai
from slowai.eval import (evaluate, feature_stats, features, frechet_distance, kid_from_features, reference_features,
                         shipped_classifier)
from slowai.prelude import load_fashion_mnist, to_model_images


def load_samples(path: Path) -> torch.Tensor:
    "The single image tensor stored in a .pt or .safetensors file."
    if path.suffix == '.safetensors':
        from safetensors.torch import load_file
        tensors = load_file(str(path))
        for key in ('images', 'samples'):
            if key in tensors: return tensors[key]
        if len(tensors) != 1:
            sys.exit(f'{path}: holds tensors {sorted(tensors)}; expected one tensor, or one named images or samples')
        return next(iter(tensors.values()))
    obj = torch.load(path, map_location='cpu', weights_only=True)
    if isinstance(obj, dict) and len(obj) == 1: obj = next(iter(obj.values()))
    if not isinstance(obj, torch.Tensor): sys.exit(f'{path}: expected a tensor, found {type(obj).__name__}')
    return obj


def timed(f, *args, **kwargs):
    t0 = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - t0


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=10_000, help='images per set for the floor (at most 10,000)')
    ap.add_argument('--samples', type=Path, help='a .pt or .safetensors file of generated images to score')
    ap.add_argument('--subsets', type=int, default=100, help='KID subsets')
    ap.add_argument('--subset-size', type=int, default=1000, help='KID subset size')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch decides)')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    if not 129 <= a.n <= 10_000: sys.exit(f'--n {a.n}: choose between 129 and 10,000 images (the test split has 10,000)')

    clf = shipped_classifier()
    print(f'machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, '
          f'cuda={torch.cuda.is_available()}; python {platform.python_version()}, torch {torch.__version__}, '
          f'numpy {np.__version__}, scipy {scipy.__version__}, slowai {slowai.__version__}')
    print(f'settings: n={a.n}, KID {a.subsets} subsets of {min(a.subset_size, a.n)}; feature net '
          f'{clf.metadata.get("channels")} x{clf.metadata.get("blocks")} blocks, {clf.n_features} features, '
          f'seed {clf.metadata.get("seed")}, {clf.metadata.get("epochs")} epochs')

    ref, t_ref = timed(reference_features)
    print(f'reference features of the test split (10,000 images): {t_ref:.1f}s')
    train_images = to_model_images(load_fashion_mnist('train')[0][:a.n])
    f_train, t_feat = timed(features, train_images)
    f_test = ref[:a.n]
    fid_floor, t_fid = timed(lambda: frechet_distance(*feature_stats(f_train), *feature_stats(f_test)))
    (kid_m, kid_s), t_kid = timed(kid_from_features, f_train, f_test, a.subsets, min(a.subset_size, a.n))
    print(f'features of {a.n:,} images: {t_feat:.1f}s ({a.n / t_feat:.0f} images/s); FID {t_fid:.2f}s; KID {t_kid:.1f}s')
    print(f'floor   (train {a.n:,} vs test {a.n:,}): FID {fid_floor:8.3f}   KID {kid_m * 1e3:7.3f} ± {kid_s * 1e3:.3f} (x1e-3)')

    if a.samples is not None:
        samples = load_samples(a.samples)
        print(f'samples: {a.samples} {list(samples.shape)} {samples.dtype}, range [{samples.min().item():.3f}, {samples.max().item():.3f}]')
        scores, t_eval = timed(evaluate, samples, n_subsets=a.subsets, subset_size=a.subset_size)
        n = scores['n']
        print(f'samples ({n:,} vs test 10,000):   FID {scores["fid"]:8.3f}   KID {scores["kid"] * 1e3:7.3f} ± '
              f'{scores["kid_std"] * 1e3:.3f} (x1e-3)   [{t_eval:.1f}s]')
        if n != a.n: print(f'note: FID is biased by the number of images; compare with the floor at --n {min(n, 10_000)}')
