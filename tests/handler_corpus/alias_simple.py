# An alias takes the signature of its target.
def _predict(data, model, context=None):
    pass

predict_fn = _predict
