# A bracket that is never closed.
def model_fn(model_dir):
    return (model_dir
