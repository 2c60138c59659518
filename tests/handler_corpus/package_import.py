# A package (code/helperpkg/__init__.py) and its submodule.
from helperpkg import model_fn
from helperpkg.impl import predict_fn
