# A relative import in the top-level handler module fails: the toolkit imports it as
# `inference`, with no parent package.
from .helper_basic import model_fn
