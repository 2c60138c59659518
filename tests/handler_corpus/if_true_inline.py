# Compound statements with an inline body.
if True: model_fn = lambda model_dir: model_dir
if 1: predict_fn = lambda data, model: data; output_fn = None
