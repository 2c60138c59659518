# The four classic handlers, one parameter list each.
import json


def model_fn(model_dir):
    return model_dir


def input_fn(request_body, content_type):
    return json.loads(request_body)


def predict_fn(data, model):
    return data


def output_fn(prediction, accept):
    return json.dumps(prediction)
