# A lambda whose default is a lambda with several parameters.
predict_fn = lambda data, model=lambda a, b, c: a: data
