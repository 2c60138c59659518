# Importing a name the sibling does not define is an ImportError.
from helper_basic import nonexistent_fn
