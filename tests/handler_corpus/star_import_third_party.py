# A star import from a package outside the archive: its names are unknown.
from torch import *


def model_fn(model_dir):
    pass
