"""Write README.md from nbs/index.ipynb: markdown cells as they are, code cells as Python blocks with their text
outputs, and image outputs as PNG files in README_files/ that README.md links to, so the repository's front page
shows the pictures too.

nbdev's own `nbdev_readme` needs Quarto; this does the same job with nbconvert. A code cell's `#| fig-alt: TEXT`
gives its picture's alt text; an image shown with a width (`Image(..., width=560)`) is stored at that width.
`--check` exits 1 if README.md or a picture is stale, or if a picture it links to is not committed.
"""
import argparse
import io
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PICTURES = 'README_files'  # beside README.md, linked relatively
sys.path.insert(0, str(ROOT/'tools'))
from docs import split_directives  # noqa: E402  the docs render reads the same `#|` lines


def small_png(data: bytes, width: int | None) -> bytes:
    "The PNG at most `width` pixels wide, in grey when it has no colour, else in 256 colours (a plot needs no more)."
    im = Image.open(io.BytesIO(data))
    im = im.convert('RGBA' if im.mode in ('RGBA', 'LA', 'P') else 'RGB')
    if width and im.width > width: im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    if im.mode == 'RGBA' and im.getchannel('A').getextrema() == (255, 255): im = im.convert('RGB')
    if im.mode == 'RGB':
        r, g, b = im.split()
        im = r if r.tobytes() == g.tobytes() == b.tobytes() else im.quantize(256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    im.save(out, format='PNG', optimize=True)
    return out.getvalue()


def render() -> tuple[str, dict[str, bytes]]:
    "README.md's text, and its pictures by path relative to the repository."
    nb = nbformat.read(ROOT/'nbs'/'index.ipynb', as_version=4)
    nb.cells = [c for c in nb.cells if not c.source.lstrip().startswith('#| hide')]
    alts, widths = {}, {}
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'code': continue
        opts, c.source = split_directives(c.source)  # the `#|` lines are for the docs, not for the reader's copy
        alts[i] = opts.get('fig-alt', 'output of the code above')
        for j, o in enumerate(c.outputs):
            widths[i, j] = o.get('metadata', {}).get('image/png', {}).get('width')
    body, res = MarkdownExporter(exclude_raw=True).from_notebook_node(nb, resources=dict(output_files_dir=PICTURES))
    pictures = {}
    def link(m):
        path, i, j = m.group(1), int(m.group(2)), int(m.group(3))
        pictures[path] = small_png(res['outputs'][path], widths.get((i, j)))
        return f'![{alts[i]}]({path})'
    body = re.sub(rf'!\[png\]\(({PICTURES}/output_(\d+)_(\d+)\.png)\)', link, body)
    body = re.sub(rf'\s*(!\[[^\]]*\]\({PICTURES}/[^)]+\))\s*', r'\n\n\1\n\n', body)  # one blank line either side
    for p in sorted((ROOT/'nbs').glob('[0-9]*.ipynb')): body = body.replace(f'({p.name})', f'(nbs/{p.name})')
    return body.strip() + '\n', pictures


def committed(paths: list[str]) -> set[str]:
    "Those of `paths` that git tracks (all of them that exist when this is not a git checkout)."
    try: out = subprocess.run(['git', 'ls-files', '--', *paths], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError): return {p for p in paths if (ROOT/p).is_file()}
    return set(out.split())


def problems(text: str, pictures: dict[str, bytes]) -> list[str]:
    "What differs between README.md with its pictures on disk and what `render` makes."
    readme, out = ROOT/'README.md', []
    if not readme.exists() or readme.read_text() != text: out.append('README.md is out of date with nbs/index.ipynb')
    links = re.findall(r'!\[[^\]]*\]\(([^)\s]+)\)', readme.read_text() if readme.exists() else '')
    tracked = committed([l for l in links if not re.match(r'[a-z]+:', l)])
    out += [f'README.md links to {l}, which is not a committed file' for l in links
            if not re.match(r'[a-z]+:', l) and l not in tracked]
    out += [f'{p} is missing or out of date' for p, data in pictures.items()
            if not (ROOT/p).is_file() or (ROOT/p).read_bytes() != data]
    out += [f'{p.relative_to(ROOT)} is no longer linked from README.md' for p in sorted((ROOT/PICTURES).glob('*'))
            if str(p.relative_to(ROOT)) not in pictures]
    return out


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--check', action='store_true', help='only check that README.md and its pictures are up to date')
    args = ap.parse_args()
    text, pictures = render()
    if args.check:
        if found := problems(text, pictures):
            sys.exit('\n'.join(found) + '\nrun python tools/readme.py (and commit README_files/)')
        print(f'README.md and its {len(pictures)} pictures are up to date')
    else:
        (ROOT/PICTURES).mkdir(exist_ok=True)
        for old in (ROOT/PICTURES).glob('*'):
            if str(old.relative_to(ROOT)) not in pictures: old.unlink()
        for p, data in pictures.items(): (ROOT/p).write_bytes(data)
        (ROOT/'README.md').write_text(text)
        print(f'wrote README.md and {len(pictures)} pictures in {PICTURES}/: '
              + ', '.join(f'{Path(p).name} {len(d) / 1024:.0f} KB' for p, d in pictures.items()))
