# A functools.wraps decorator of this module keeps the signature.
import functools


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@logged
def predict_fn(data, model):
    pass
