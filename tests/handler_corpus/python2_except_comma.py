# Python 2 except clause.
try:
    import torch
except ImportError, e:
    torch = None
