# Helper module with __all__: a star import binds only input_fn.
__all__ = ["input_fn"]


def input_fn(body, content_type):
    return body


def output_fn(prediction, accept):
    return prediction
