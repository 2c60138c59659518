# An unterminated triple-quoted string.
def model_fn(model_dir):
    """never closed
    return model_dir
