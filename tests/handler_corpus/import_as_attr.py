# import x as y, then an attribute.
import helper_basic as hb

input_fn = hb.load
