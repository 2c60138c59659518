# Tuple assignment pairs targets with values.
def _in(body, content_type):
    pass


def _out(prediction, accept, context=None):
    pass

input_fn, output_fn = _in, _out
