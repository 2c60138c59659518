# A dedent to a column that matches no outer level.
def model_fn(model_dir):
        x = 1
    return x
