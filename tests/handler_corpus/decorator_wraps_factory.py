# A decorator factory whose inner wrapper uses `from functools import wraps`.
from functools import wraps


def retry(times):
    def decorate(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)
        return wrapper
    return decorate


@retry(3)
def model_fn(model_dir, context=None):
    pass
