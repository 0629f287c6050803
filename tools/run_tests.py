"""Run every slowai test and summarise: each notebook under nbdev_test, then the project checks.

    python tools/run_tests.py [--only NAME ...]

Ends with a line `N passed, N failed`; exits 1 if anything failed.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def checks() -> list[tuple[str, list[str]]]:
    nbs = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
    out = [(p.name, [str(BIN/'nbdev_test'), '--path', str(p.relative_to(ROOT))]) for p in nbs]
    out += [('readme in sync', [sys.executable, 'tools/readme.py', '--check']),
            ('library in sync', [sys.executable, 'tools/check_export.py']),
            ('wheel in fresh venv', ['bash', 'tools/test_wheel.sh']),
            ('docs site', [sys.executable, 'tools/test_docs.py'])]
    return out


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', nargs='*', help='run only the checks whose names contain one of these words')
    args = ap.parse_args()
    todo = [(n, c) for n, c in checks() if not args.only or any(w in n for w in args.only)]
    results, t_all = [], time.perf_counter()
    for name, cmd in todo:
        print(f'== {name}', flush=True)
        t0 = time.perf_counter()
        ok = subprocess.run(cmd, cwd=ROOT).returncode == 0
        results.append((name, ok, time.perf_counter() - t0))
        print(f'-- {name}: {"PASS" if ok else "FAIL"} ({time.perf_counter() - t0:.0f}s)', flush=True)
    print('\n== summary')
    for name, ok, secs in results: print(f'{"PASS" if ok else "FAIL"}  {secs:6.0f}s  {name}')
    n_fail = sum(not ok for _, ok, _ in results)
    print(f'total {time.perf_counter() - t_all:.0f}s')
    print(f'{len(results) - n_fail} passed, {n_fail} failed')
    sys.exit(1 if n_fail else 0)
