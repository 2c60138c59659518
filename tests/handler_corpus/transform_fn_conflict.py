# transform_fn together with input_fn: the toolkit raises ValueError at startup.
def transform_fn(model, data, content_type, accept):
    pass


def input_fn(body, content_type):
    pass
