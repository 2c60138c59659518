# A wrapper without functools.wraps replaces the signature: smpack says unknown.
def timed(fn):
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@timed
def predict_fn(data, model):
    pass
