# A def without a body.
def model_fn(model_dir):
x = 1
