# A closing bracket that does not match.
def model_fn(model_dir):
    return [model_dir)
