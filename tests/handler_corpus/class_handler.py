# A class bound to model_fn: inspect.signature gives __init__ without self.
class model_fn:
    def __init__(self, model_dir, context=None):
        self.model_dir = model_dir


class input_fn:
    pass
