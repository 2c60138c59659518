# Python 2 print statement.
def model_fn(model_dir):
    print "loading", model_dir
