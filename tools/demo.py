"""The main job: a short DDPM training run on the CPU with slowai_train, then point at what it wrote."""
import subprocess
import sys
import time
from pathlib import Path

out = Path('runs')/time.strftime('demo-%Y%m%d-%H%M%S')
cmd = [str(Path(sys.executable).parent/'slowai_train'), '--out', str(out), '--epochs', '1', '--subset', '2048', *sys.argv[1:]]
print('$', ' '.join(cmd), flush=True)
subprocess.run(cmd, check=True)
print(f'\nopen {out/"losses.png"} (the loss per epoch) and {out/"samples.png"} (16 samples);\n'
      f'more samples: slowai_sample --run {out} --n 64 --out more.png')
