# Lambdas bound to handler names.
predict_fn = lambda data, model: data
input_fn = lambda *args: args
output_fn = lambda prediction, accept, context=None, **kw: prediction
model_fn = lambda: None
