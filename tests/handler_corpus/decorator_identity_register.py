# A registering decorator that returns the function unchanged.
REGISTRY = []


def register(fn):
    REGISTRY.append(fn)
    return fn


@register
def output_fn(prediction, accept):
    pass
