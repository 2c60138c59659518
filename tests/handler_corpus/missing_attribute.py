# An attribute the sibling does not define is an AttributeError at import.
import helper_basic

model_fn = helper_basic.not_there
