# Defaults holding lambdas with their own commas and colons.
def predict_fn(data, model=lambda a, b=2: (a, b), ctx=lambda: {"k": 1}):
    pass


def input_fn(body, content_type=lambda x, *y, **z: x, context=lambda q=lambda r, s: r: q):
    pass
