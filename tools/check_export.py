"""Fail if the committed library differs from what nbdev_export writes from the notebooks."""
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
with tempfile.TemporaryDirectory() as tmp:
    saved = Path(tmp)/'slowai'
    shutil.copytree(ROOT/'slowai', saved)
    subprocess.run([Path(sys.executable).parent/'nbdev_export'], cwd=ROOT, check=True)
    cmp = filecmp.dircmp(saved, ROOT/'slowai', ignore=['__pycache__'])
    stale = cmp.diff_files + cmp.left_only + cmp.right_only
    if stale:
        shutil.rmtree(ROOT/'slowai'); shutil.copytree(saved, ROOT/'slowai')
        sys.exit(f'slowai/ is out of date with the notebooks ({", ".join(stale)}): run nbdev_export and commit')
print('slowai/ matches the notebooks')
