# del removes a handler the module defined.
def input_fn(body, content_type):
    pass


def output_fn(prediction, accept):
    pass

del input_fn
