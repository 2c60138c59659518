# Two helpers that import each other; the names still resolve in CPython.
from helper_cycle_a import model_fn
from helper_cycle_b import predict_fn
