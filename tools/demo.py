"""The main job for now: fit a small classifier on Fashion-MNIST for one epoch with slowai's Learner."""
import torch
import torch.nn.functional as F

from slowai.prelude import DeviceCB, Learner, MetricsCB, OneCycle, ProgressCB, accuracy, get_dls, small_cnn

torch.manual_seed(0)
learn = Learner(small_cnn(), get_dls(bs=128, seed=0), F.cross_entropy, lr=1e-2, opt_func=torch.optim.Adam,
                cbs=[DeviceCB(), MetricsCB(accuracy), ProgressCB(), OneCycle(1e-2)])
learn.fit(1)
