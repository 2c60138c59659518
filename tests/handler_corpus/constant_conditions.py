# Conditions that are the same on every Python 3.8+ decide the branch statically.
import sys
import typing
from typing import TYPE_CHECKING

if sys.version_info >= (3, 8):
    def input_fn(data, content_type):
        return data
else:
    def input_fn(data):
        return data

if TYPE_CHECKING:
    def output_fn(prediction):
        return prediction
else:
    def output_fn(prediction, accept):
        return prediction

if False:
    def model_fn():
        pass
elif not (sys.version_info[0] < 3):
    def model_fn(model_dir):
        return None
else:
    def model_fn(a, b, c):
        pass

if typing.TYPE_CHECKING:
    def predict_fn():
        pass
elif sys.version_info < (3, 0):
    def predict_fn(a):
        pass
else:
    def predict_fn(data, model):
        return data
