"""Counts that say how readable the library's code is, from the notebooks and the exported modules.

    python tools/code_stats.py            # the table
    python tools/code_stats.py --import   # also time `import slowai.cli` in a fresh interpreter (median of 5)

public names: the names in the modules' `__all__`; widest signature: the most parameters a caller may pass
positionally; export cell: code lines of the longest `#| export` cell; long lines: notebook code lines over 100
characters.
"""
import ast
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 100


def module_stats():
    names, wide = 0, []
    for py in sorted((ROOT / 'slowai').glob('*.py')):
        if py.name.startswith('_'): continue
        tree = ast.parse(py.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == '__all__' for t in node.targets):
                names += len(node.value.elts)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                pos = [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ('self', 'cls')]
                wide.append((len(pos), f'{py.stem}.{node.name}'))
    wide.sort(reverse=True)
    return names, wide


def notebook_stats():
    longest, long_lines, code_lines = (0, ''), 0, 0
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        for cell in json.loads(nb.read_text())['cells']:
            if cell['cell_type'] != 'code': continue
            lines = ''.join(cell['source']).splitlines()
            code_lines += len(lines)
            long_lines += sum(len(l) > LIMIT for l in lines)
            if lines and lines[0].replace(' ', '').startswith('#|export') and len(lines) > longest[0]:
                longest = (len(lines), nb.stem)
    return longest, long_lines, code_lines


def import_seconds(runs=5):
    code = 'import time; t = time.perf_counter(); import slowai.cli; print(time.perf_counter() - t)'
    return statistics.median(float(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                                                  check=True, cwd=ROOT).stdout) for _ in range(runs))


if __name__ == '__main__':
    names, wide = module_stats()
    (cell, cell_nb), long_lines, code_lines = notebook_stats()
    print(f'public names: {names}')
    print(f'widest signatures: ' + ', '.join(f'{n} {k}' for k, n in wide[:5]))
    print(f'functions with 5 or more positional parameters: {sum(k >= 5 for k, _ in wide)} of {len(wide)}')
    print(f'longest export cell: {cell} lines ({cell_nb})')
    print(f'code lines over {LIMIT} characters: {long_lines} of {code_lines}')
    if '--import' in sys.argv: print(f'import slowai.cli: {import_seconds():.2f} s (median of 5)')
