# An unterminated string literal.
def model_fn(model_dir):
    return "never closed
