# Handlers set to None: getattr finds None (model_fn None is used as is by the toolkit).
model_fn = None
input_fn = None
pre_model_fn = None
