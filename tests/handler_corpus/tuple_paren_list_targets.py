# Parenthesised and bracketed tuple targets.
def _a(model_dir):
    pass


def _b(data, model):
    pass

(model_fn, predict_fn) = (_a, _b)
[input_fn, output_fn] = [lambda b, c: b, lambda p, a: p]
