# A module-level walrus binds the name; its value is an expression.
def _p(data, model):
    pass

(predict_fn := _p)
