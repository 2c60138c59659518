# Defaulted parameters count one each.
def predict_fn(data, model, context=None):
    pass


def model_fn(model_dir=None, context=None, extra=1):
    pass
