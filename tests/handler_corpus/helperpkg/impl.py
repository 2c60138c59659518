# Helper submodule.
def model_fn(model_dir, context=None):
    return model_dir


def predict_fn(data, model):
    return data
