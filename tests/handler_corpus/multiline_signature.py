# A signature over many lines with comments and a trailing comma.
def predict_fn(
    data,  # the decoded request, (a comment with a comma)
    model,
    # context is optional
    context=None,
):
    pass


def model_fn(model_dir,
             context=None):
    pass
