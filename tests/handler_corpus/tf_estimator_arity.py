# A TensorFlow Estimator script: model_fn/input_fn with other arities.
def model_fn(features, labels, mode, params):
    pass


def input_fn(params):
    pass
