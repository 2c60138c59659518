# Defaults that are strings with commas and brackets, and nested brackets.
def output_fn(prediction, accept="application/json, text/csv)", context=[(1, ","), {"}": "("}]):
    pass


def model_fn(model_dir=("a", "b", ["c", ("d",)])):
    pass
