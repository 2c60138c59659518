# The last def wins.
def model_fn(model_dir):
    pass


def model_fn(model_dir, context, extra):
    pass
