# A sibling's function imported under a handler name.
from helper_basic import load as model_fn
