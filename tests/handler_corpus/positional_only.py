# The / marker does not count.
def input_fn(body, content_type, /, context=None):
    pass


def model_fn(model_dir, /):
    pass
