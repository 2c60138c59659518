# Python 2 raise E, message.
def model_fn(model_dir):
    raise ValueError, "no model"
