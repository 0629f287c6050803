#!/usr/bin/env bash
# Build the sdist and wheel, install the wheel into a fresh venv (not editable, run from outside the checkout),
# then import slowai and load a batch, as a user of `pip install slowai` would.
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
print('wheel OK:', slowai.__version__, slowai.__file__, tuple(xb.shape))
PY
