"""The main job, in three acts, each with the command a user would type:

1. 64 samples from the model that ships with slowai (`slowai_sample --pretrained`), with the default sampler,
   and 80 from the shipped class-conditional model, eight of each class (`slowai_sample --pretrained --label all`);
2. FID, KID, precision and recall of 1,000 samples against the test set (`slowai_eval --pretrained`, with the
   default sampler: DPM-Solver++ 3M SDE, 20 model calls each);
3. a short training run from scratch on the CPU (`slowai_train`), to show the loop a real run goes through.

    python tools/demo.py [extra slowai_train options]

Everything lands in runs/demo-DATE-TIME/. See README.md for how long it takes on two CPU cores.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
out = Path('runs')/time.strftime('demo-%Y%m%d-%H%M%S')
out.mkdir(parents=True)
TRAIN = ['--epochs', '2', '--subset', '2048']  # 2,048 images, seen twice: about a minute on 2 cores


def run(*args: str):
    "Run one of slowai's commands as a user would, with its progress bars on the terminal."
    print(f'\n$ {" ".join(args)}', flush=True)
    code = subprocess.run([str(BIN/args[0]), *args[1:]]).returncode
    if code: sys.exit(f'demo: `{args[0]}` failed with exit status {code}')


t0 = time.perf_counter()
run('slowai_sample', '--pretrained', '--n', '64', '--out', str(out/'pretrained.png'))
run('slowai_sample', '--pretrained', '--label', 'all', '--n', '80', '--out', str(out/'classes.png'))
run('slowai_eval', '--pretrained', '--n', '1000', '--out', str(out/'pretrained-eval.json'))
res = json.loads((out/'pretrained-eval.json').read_text())
t_pre = time.perf_counter() - t0
run('slowai_train', '--out', str(out/'train'), *TRAIN, *sys.argv[1:])

from slowai.eval import evaluate  # the floor: 1,000 real training images scored the same way
from slowai.prelude import load_fashion_mnist, to_model_images
floor = evaluate(to_model_images(load_fashion_mnist('train')[0][:1000]), seed=res['seed'])
print(f'''
== the shipped model ({res["sampler"]}, {res["model_calls_per_image"]} model calls per image, {res["n"]:,} samples, seed {res["seed"]})
   FID {res["fid"]:.2f}   KID x1000 {1e3 * res["kid"]:.2f} +- {1e3 * res["kid_std"]:.2f}   precision {res["precision"]:.3f}   recall {res["recall"]:.3f}   static {res["static"]:.1%}
   1,000 real training images, scored the same way (the best a model can do at this n):
   FID {floor["fid"]:.2f}   KID x1000 {1e3 * floor["kid"]:.2f} +- {1e3 * floor["kid_std"]:.2f}   precision {floor["precision"]:.3f}   recall {floor["recall"]:.3f}   static {floor["static"]:.1%}
   (all on the shipped classifier's features: see the evaluation notebook)
   look at {out/"pretrained.png"}, and at {out/"classes.png"}: one row per class, drawn on request
   (slowai_sample --pretrained --label sneaker --n 16 draws sneakers; see the conditional DDPM notebook)

== the short run in {out/"train"}: two epochs over 2,048 images on this CPU
   look at {out/"train"/"losses.png"} (the loss of every batch) and {out/"train"/"samples.png"}.
   So short a run (32 optimiser steps) learns to remove much of the noise but not yet what clothes look like:
   expect grey blotches, not garments. Two epochs over all 60,000 images (938 steps) give garments; the shipped
   model's card says what trained it (slowai/models/fashion-ddpm/README.md). Go further with:
     slowai_train --out runs/first --epochs 2    (all 60,000 images; about 25 minutes on 2 CPU cores)

demo finished in {time.perf_counter() - t0:.0f} s ({t_pre:.0f} s for the shipped model's samples and scores)''')
