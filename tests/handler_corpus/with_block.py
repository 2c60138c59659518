# A def inside a with body.
import contextlib

with contextlib.suppress(ValueError):
    def model_fn(model_dir):
        pass
