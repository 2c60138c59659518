# a = b = value binds both names.
def _p(data, model):
    pass

predict_fn = other_name = _p
