# @functools.wraps(target) on a def: inspect.signature reports target's signature.
import functools


def _impl(data, model, context=None):
    pass


@functools.wraps(_impl)
def predict_fn(*args, **kwargs):
    return _impl(*args, **kwargs)
