# Backslash continuations in a def and in an assignment.
def model_fn(model_dir, \
             context=None):
    pass


def _predict(data, model):
    pass

predict_fn = \
    _predict
