# A guarded third-party import, then ordinary handlers.
try:
    import torch
except ImportError:
    torch = None


def model_fn(model_dir):
    return torch
