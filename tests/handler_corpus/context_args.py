# Every handler takes the optional trailing context argument.
def model_fn(model_dir, context):
    pass


def input_fn(body, content_type, context):
    pass


def predict_fn(data, model, context):
    pass


def output_fn(prediction, accept, context):
    pass
