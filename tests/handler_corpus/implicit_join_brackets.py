# An assignment value spread over lines inside brackets.
HANDLERS = {
    "predict": lambda data,
    model: data,
}
predict_fn = (
    lambda data, model,
    context=None: data
)
