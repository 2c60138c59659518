# *args, then keyword-only, then **kwargs.
def model_fn(*args, ctx, **kw):
    pass


def predict_fn(a, /, b, *c, d=1, e, **f):
    pass
