# del, then a new binding: the new one counts.
def predict_fn(data, model):
    pass

del predict_fn
predict_fn = lambda data, model, context: data
