# pre_model_fn and model_warmup_fn (toolkit 1.6+).
def pre_model_fn(model_dir):
    pass


def model_fn(model_dir):
    pass


def model_warmup_fn(model_dir, model):
    pass
