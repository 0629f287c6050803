"""Where does float16 overflow? Record every module's largest |activation| and |gradient| over the first optimiser
steps of the DDPM recipe, in float32 (or under CPU autocast), and list the modules that leave float16's range.

    python bench/fp16_ranges.py [--steps 100] [--bs 512] [--lr 1e-2] [--epochs 8] [--subset N]
                                [--dtype fp32|fp16|bf16] [--out runs/fp16-ranges]

The recipe is the one that diverged in float16 on a GPU: `init_ddpm`, Adam with eps 1e-5, a one-cycle schedule to
`--lr` laid out over `--epochs` epochs of the (sub)set, batch size `--bs`; the run stops after `--steps` optimiser
steps, so the schedule is exactly the one the full run would have used in those steps. Per step and per module it
keeps the largest |output| (forward hooks), the largest |gradient| of that output (tensor hooks), and for every
attention block the largest |q.k|/sqrt(d) score, which diffusers' fused attention never materialises. Written to
OUT/<dtype>.json, with a summary of the modules whose values pass float16's largest finite value (65,504) or whose
smallest non-zero gradient falls below its smallest subnormal (6e-8), and the step where that first happens.
"""
import argparse
import json
import math
import time
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm
from torch import nn

from slowai.config import ConfigError, TrainConfig, config_options, flag_of
from slowai.ddpm import DDPM, NoiseSchedule, fashion_unet
from slowai.init import init_ddpm
from slowai.mixed import MixedPrecision
from slowai.prelude import CancelFitException, Callback, DeviceCB, Learner, OneCycle, get_dls

FP16_MAX, FP16_TINY = 65504.0, 2.0 ** -24
LEAVES = (nn.Conv2d, nn.Linear, nn.GroupNorm, nn.SiLU)


class Ranges(Callback):
    "Per optimiser step, the largest |output| and |output gradient| of each leaf module and attention score."
    order = 100
    def __init__(self, model: nn.Module, steps: int, save_at=(), out: Path | None = None, light: bool = False):
        self.steps, self.n, self.rows, self.handles, self.light = steps, 0, [], [], light
        self.model, self.save_at, self.out = model, set(save_at), out
        self.cur, self.lazy, self.bar = {}, {}, tqdm(total=steps, desc='optimiser steps', unit='step')
        for name, m in model.named_modules():
            if isinstance(m, LEAVES): self.handles.append(m.register_forward_hook(partial(self.fwd, name)))
            if type(m).__name__ == 'Attention' and not light:
                self.handles.append(m.to_q.register_forward_hook(partial(self.keep, name, 'q')))
                self.handles.append(m.to_k.register_forward_hook(partial(self.keep, name, 'k')))
                self.handles.append(m.register_forward_hook(partial(self.scores, name, m)))

    def _put(self, key: str, field: str, value: float):
        rec = self.cur.setdefault(key, {})
        rec[field] = max(rec.get(field, 0.0), value)

    def fwd(self, name, mod, inp, out):
        if not isinstance(out, torch.Tensor): return
        if self.light:  # keep the maxima as tensors; one conversion per step in after_step
            v = out.detach().abs().amax().float()
            self.lazy[name] = v if name not in self.lazy else torch.maximum(self.lazy[name], v)
            return
        self._put(name, 'act', out.detach().abs().max().float().item())
        if out.requires_grad and not self.light: out.register_hook(partial(self.grad, name))

    def grad(self, name, g):
        g = g.detach().abs().float()
        self._put(name, 'grad', g.max().item())
        nz = torch.where(g > 0, g, math.inf).min().item()
        if nz < math.inf:
            rec = self.cur.setdefault(name, {})
            rec['grad_min'] = min(rec.get('grad_min', math.inf), nz)

    def keep(self, name, which, mod, inp, out): self.cur.setdefault(name + '.scores', {})['_' + which] = out.detach()

    def scores(self, name, attn, mod, inp, out):
        rec = self.cur.setdefault(name + '.scores', {})
        q, k = rec.pop('_q', None), rec.pop('_k', None)
        if q is None or k is None: return
        h = attn.heads
        b, n, c = q.shape
        q, k = (x.float().reshape(b, n, h, c // h).transpose(1, 2) for x in (q, k))
        s = (q @ k.transpose(-1, -2)) / math.sqrt(c // h)
        self._put(name + '.scores', 'act', s.abs().max().item())

    def after_step(self, learn):
        if self.lazy:
            for k, v in zip(self.lazy, torch.stack(list(self.lazy.values())).tolist()): self._put(k, 'act', v)
            self.lazy = {}
        self.rows.append(dict(step=self.n, loss=learn.loss.item(), lr=learn.opt.param_groups[0]['lr'],
                              modules={k: {f: v for f, v in r.items() if not f.startswith('_')} for k, r in self.cur.items()}))
        self.cur, self.n = {}, self.n + 1
        if self.n in self.save_at:  # the weights after this many optimiser steps, for the float16 forward check
            torch.save({k: v.detach().clone() for k, v in self.model.state_dict().items()}, self.out/f'state-{self.n}.pt')
        self.bar.update(1)
        self.bar.set_postfix(loss=f'{self.rows[-1]["loss"]:.4f}', lr=f'{self.rows[-1]["lr"]:.2e}')
        if self.n >= self.steps: raise CancelFitException()

    def after_fit(self, learn):
        for h in self.handles: h.remove()
        self.bar.close()


def summary(rows: list[dict]) -> dict:
    "Per module: the largest value over all steps, and the first step past float16's range, for acts and grads."
    out = {}
    for r in rows:
        for name, rec in r['modules'].items():
            s = out.setdefault(name, dict(act=0.0, grad=0.0, grad_min=math.inf, overflow=None, underflow=None))
            for f in ('act', 'grad'):
                if f in rec:
                    s[f] = max(s[f], rec[f])
                    if rec[f] > FP16_MAX and s['overflow'] is None: s['overflow'] = dict(step=r['step'], field=f, value=rec[f])
            if 'grad_min' in rec:
                s['grad_min'] = min(s['grad_min'], rec['grad_min'])
                if rec['grad_min'] < FP16_TINY and s['underflow'] is None: s['underflow'] = dict(step=r['step'], value=rec['grad_min'])
    return out


def check(args):
    "One float16-autocast forward and backward pass at each saved state: where does the first non-finite value appear?"
    states = sorted(args.out.glob('state-*.pt'), key=lambda p: int(p.stem.split('-')[1]))
    if not states: raise SystemExit(f'no {args.out}/state-N.pt: run with --save-at first')
    torch.manual_seed(args.seed)
    xb, _ = next(iter(get_dls(args.check_bs, subset=args.check_bs, seed=args.seed).train))
    (xt, t), eps = NoiseSchedule().noisify(xb, generator=torch.Generator().manual_seed(args.seed))
    res = {}
    for p in states:
        model = fashion_unet()
        model.load_state_dict(torch.load(p))
        order, acts = [], {}
        def fwd(name, mod, inp, out):
            if isinstance(out, torch.Tensor):
                order.append(name); acts[name] = (out.detach().abs().float().max().item(), str(out.dtype))
        hs = [m.register_forward_hook(partial(fwd, n)) for n, m in model.named_modules() if isinstance(m, LEAVES)]
        with torch.autocast('cpu', dtype=torch.float16):
            pred = model(xt, t).sample
            loss = F.mse_loss(pred.float(), eps)
        loss.backward()
        for h in hs: h.remove()
        first = next((n for n in order if not math.isfinite(acts[n][0])), None)
        big = sorted(acts.items(), key=lambda kv: -kv[1][0])[:5]
        gmax = max(q.grad.abs().max().item() for q in model.parameters() if q.grad is not None)
        step = int(p.stem.split('-')[1])
        res[step] = dict(loss=loss.item(), first_nonfinite=first, largest=big, max_param_grad=gmax)
        print(f'step {step:>4}: loss {loss.item():.4g}; first non-finite output: {first or "none"}; largest: '
              + ', '.join(f'{n} {v:.4g} ({d.replace("torch.", "")})' for n, (v, d) in big[:3]))
    (args.out/'check-fp16.json').write_text(json.dumps(res, indent=1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--steps', type=int, default=100)
    # the training settings, as slowai declares them, at the seed's recipe: batch 512, peak lr 0.01, 8 epochs
    config_options(ap, TrainConfig, only=('bs', 'lr', 'epochs', 'subset', 'seed'),
                   defaults=dict(bs=512, lr=1e-2, epochs=8))
    ap.add_argument('--dtype', choices=('fp32', 'fp16', 'bf16'), default='fp32', help='fp16/bf16: CPU autocast')
    ap.add_argument('--out', type=Path, default=Path('runs/fp16-ranges'))
    ap.add_argument('--save-at', default='', help='comma-separated step counts after which to save the weights')
    ap.add_argument('--check', action='store_true',
                    help='instead of training: load every OUT/state-N.pt and run one float16-autocast forward and '
                         'backward on --check-bs images, reporting the first module whose output is not finite')
    ap.add_argument('--check-bs', type=int, default=64)
    ap.add_argument('--light', action='store_true', help='activations only: no gradient hooks, no attention scores (faster)')
    ap.add_argument('--tag', default=None, help='name of the JSON written (default: the dtype)')
    args = ap.parse_args(argv)
    if args.check: return check(args)
    if args.steps < 1: ap.error('--steps must be positive')
    try: TrainConfig(bs=args.bs, lr=args.lr, epochs=args.epochs, subset=args.subset, seed=args.seed)
    except ConfigError as e: ap.error(f'{flag_of(e.field)} {e.value}: {e.reason}')

    torch.manual_seed(args.seed)
    model = init_ddpm(fashion_unet())
    dls = get_dls(args.bs, subset=args.subset, seed=args.seed)
    total = args.epochs * len(dls.train)
    if args.steps > total: ap.error(f'--steps {args.steps} is more than the {total} steps of --epochs {args.epochs}')
    save_at = [int(x) for x in args.save_at.split(',') if x.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    ranges = Ranges(model, args.steps, save_at, args.out, args.light)
    cbs = [DeviceCB('cpu'), DDPM(), OneCycle(args.lr), ranges]
    if args.dtype != 'fp32':
        cbs.append(MixedPrecision(torch.float16 if args.dtype == 'fp16' else torch.bfloat16, force=True))
    learn = Learner(model, dls, F.mse_loss, lr=args.lr, cbs=cbs, opt_func=partial(torch.optim.Adam, eps=1e-5))
    t0 = time.perf_counter()
    try: learn.fit(args.epochs)
    except Exception as e:  # a non-finite loss under autocast is a result here, not a crash
        print(f'stopped at step {ranges.n}: {type(e).__name__}: {e}')
    secs = time.perf_counter() - t0
    summ = summary(ranges.rows)
    dest = args.out/f'{args.tag or args.dtype}.json'
    dest.write_text(json.dumps(dict(settings={k: str(v) for k, v in vars(args).items()}, seconds=secs,
                                    rows=ranges.rows, summary=summ), indent=1))
    losses = [r['loss'] for r in ranges.rows]
    print(f'{args.dtype}: {len(losses)} steps in {secs:.0f} s; loss first {losses[0]:.4f}, last {losses[-1]:.4f}, '
          f'finite {all(map(math.isfinite, losses))}')
    top = sorted(summ.items(), key=lambda kv: -max(kv[1]['act'], kv[1]['grad']))[:15]
    print(f'{"module":<55} {"max |act|":>11} {"max |grad|":>11} {"min |grad|>0":>13}  first step past 65,504')
    for name, s in top:  # gradients are unscaled here: a GradScaler multiplies them by its scale before float16 sees them
        over = s['overflow']
        where = f"{over['field']} at step {over['step']}" if over else '-'
        print(f'{name:<55} {s["act"]:>11.4g} {s["grad"]:>11.4g} {s["grad_min"]:>13.3g}  {where}')
    over = [n for n, s in summ.items() if s['overflow']]
    print(f'{len(over)} module(s) pass 65,504' + (f': {", ".join(over[:10])}' if over else '') + f'; written to {dest}')


if __name__ == '__main__':
    main()
