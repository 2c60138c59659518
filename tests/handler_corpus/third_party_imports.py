# Third-party imports (stubbed in the test), then handlers.
import numpy as np
import torch
from transformers import pipeline


def model_fn(model_dir):
    return pipeline("text-classification", model=model_dir)


def predict_fn(data, model):
    return model(np.asarray(data))
