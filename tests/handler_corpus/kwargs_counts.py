# **kwargs counts one: predict_fn(data, model, **kw) has 3.
def predict_fn(data, model, **kw):
    pass


def output_fn(prediction, accept, *args, **kwargs):
    pass
