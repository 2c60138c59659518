# Semicolons and trailing comments.
def _in(body, content_type): return body  # inline body; with a comment
x = 1; input_fn = _in; y = 2  # three statements
def model_fn(model_dir): pass; pass
