# Helper module: plain handlers that inference modules import.
def model_fn(model_dir):
    return model_dir


def predict_fn(data, model, context=None):
    return data


def load(model_dir, context=None):
    return model_dir


def _private(x):
    return x
