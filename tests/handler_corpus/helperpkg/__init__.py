# Helper package: re-exports from its submodule with a relative import (valid in a package).
from .impl import model_fn
