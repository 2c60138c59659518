# An indented line where no block starts.
def model_fn(model_dir):
    pass
        predict_fn = None
