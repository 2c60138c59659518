# The bare * marker does not count; keyword-only parameters do.
def output_fn(prediction, accept, *, context=None):
    pass


def model_fn(*, model_dir):
    pass
