"""Write README.md from nbs/index.ipynb (markdown cells as they are, code cells as Python blocks with their text outputs;
image outputs are left to the docs site).

nbdev's own `nbdev_readme` needs Quarto; this does the same job with nbconvert. `--check` exits 1 if README.md is stale.
"""
import argparse
import sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parent.parent


def render() -> str:
    nb = nbformat.read(ROOT/'nbs'/'index.ipynb', as_version=4)
    nb.cells = [c for c in nb.cells if not c.source.lstrip().startswith('#| hide')]
    for c in nb.cells:  # pictures live on the docs site; the README keeps the code and its text output
        if c.cell_type == 'code': c.outputs = [o for o in c.outputs if not any(k.startswith('image/') for k in o.get('data', {}))]
    body, _ = MarkdownExporter(exclude_raw=True).from_notebook_node(nb)
    for p in sorted((ROOT/'nbs').glob('[0-9]*.ipynb')): body = body.replace(f'({p.name})', f'(nbs/{p.name})')
    return body.strip() + '\n'


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--check', action='store_true', help='only check that README.md is up to date')
    args = ap.parse_args()
    text, readme = render(), ROOT/'README.md'
    if args.check:
        if not readme.exists() or readme.read_text() != text:
            sys.exit('README.md is out of date with nbs/index.ipynb: run python tools/readme.py')
        print('README.md is up to date')
    else:
        readme.write_text(text)
        print(f'wrote {readme}')
