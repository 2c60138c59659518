# transform_fn alone replaces input/predict/output.
def model_fn(model_dir):
    pass


def transform_fn(model, data, content_type, accept):
    pass
