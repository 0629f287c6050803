__version__ = "0.1.0"

from .mixed import load_pretrained
