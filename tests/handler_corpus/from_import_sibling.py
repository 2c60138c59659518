# Handlers imported from a sibling module of code/.
from helper_basic import model_fn, predict_fn
