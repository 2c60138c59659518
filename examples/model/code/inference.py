"""Handlers for the bundled example: a linear model over the weights in weights.npy."""
import json
import os

import numpy as np


def model_fn(model_dir):
    """Loads the weights once per worker; returns what predict_fn receives as `model`."""
    weights = np.load(os.path.join(model_dir, "weights.npy"), allow_pickle=False)
    return weights[:256]


def input_fn(request_body, content_type):
    """Decodes a JSON list of 256 numbers."""
    if content_type != "application/json":
        raise ValueError("unsupported content type: " + content_type)
    return np.asarray(json.loads(request_body), dtype=np.float32)


def predict_fn(data, model):
    return float(np.dot(data, model))


def output_fn(prediction, accept):
    return json.dumps({"score": prediction}), "application/json"
