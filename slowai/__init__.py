__version__ = "0.1.0"

# The names most programs need, and the module each lives in. `from slowai import sample` imports only that
# module, on first use, so `import slowai` itself stays instant; everything else is in the modules themselves.
_WHERE = {
    'get_dls': 'prelude', 'show_images': 'prelude', 'Learner': 'prelude', 'TrainingDiverged': 'prelude',
    'DDPM': 'ddpm', 'fashion_unet': 'ddpm', 'train': 'ddpm',
    'init_ddpm': 'init',
    'MixedPrecision': 'mixed', 'load_pretrained': 'pretrained',
    'AccelerateCB': 'accel',
    'sample': 'samplers', 'guided_sample': 'conditional',
    'fid': 'eval', 'kid': 'eval', 'evaluate': 'eval',
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE: raise AttributeError(f"module 'slowai' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f'.{_WHERE[name]}', __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__(): return sorted(set(globals()) | set(__all__))
