# *args counts one.
def predict_fn(*args):
    pass


def input_fn(body, *rest):
    pass
