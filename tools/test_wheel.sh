#!/usr/bin/env bash
# Build the sdist and wheel, install the wheel into a fresh venv (not editable, run from outside the checkout),
# then import slowai, load a batch and sample from the shipped model, as a user who installed the wheel would.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=${PYTHON:-$root/.venv/bin/python}
"$py" -m build --sdist --wheel --outdir "$work/dist" "$root" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
ls "$work/dist"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip
"$work/venv/bin/pip" install -q "${TORCH_SPEC:-torch==2.13.0}"
"$work/venv/bin/pip" install -q "$work"/dist/*.whl
cd "$work"
"$work/venv/bin/python" - <<'PY'
import slowai, slowai.prelude as p
from pathlib import Path
assert 'site-packages' in slowai.__file__, slowai.__file__
dls = p.get_dls(bs=128)
xb, yb = next(iter(dls.train))
assert tuple(xb.shape) == (128, 1, 32, 32) and xb.min() == -0.5 and xb.max() == 0.5
from slowai import load_pretrained
from slowai.samplers import sample
from slowai.conditional import guided_sample
ddpm, model = load_pretrained('cpu')
x = sample(ddpm, model, (4, 1, 32, 32), 'ddim', steps=5, eta=1., progress=False)
assert tuple(x.shape) == (4, 1, 32, 32) and x.isfinite().all()
ddpm, model = load_pretrained('cpu', conditional=True)
x = guided_sample(ddpm, model, (4, 1, 32, 32), 'ddim', labels='sneaker', guidance=3., steps=5, eta=1., progress=False)
assert tuple(x.shape) == (4, 1, 32, 32) and x.isfinite().all()
print('wheel OK:', slowai.__version__, slowai.__file__, tuple(xb.shape))
PY
"$py" -m zipfile -l "$work"/dist/*.whl | grep -E 'models/.*(safetensors|json)'
"$work/venv/bin/slowai_sample" --pretrained --n 8 --steps 5 --out "$work/grid.png"
test -s "$work/grid.png"
"$work/venv/bin/slowai_sample" --pretrained --label sneaker --n 4 --steps 5 --out "$work/sneakers.png"
test -s "$work/sneakers.png"
