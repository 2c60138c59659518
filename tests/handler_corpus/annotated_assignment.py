# An annotated assignment binds; an annotation without a value does not.
from typing import Callable


def _p(data, model):
    pass

predict_fn: Callable = _p
model_fn: Callable
