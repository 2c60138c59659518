# import x, then model_fn = x.model_fn.
import helper_basic

model_fn = helper_basic.model_fn
predict_fn = helper_basic.predict_fn
