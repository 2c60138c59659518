# if / elif / else: the last branch in source order is reported.
MODE = 3

if MODE == 1:
    def model_fn(model_dir):
        pass
elif MODE == 2:
    def model_fn(model_dir, context):
        pass
else:
    def model_fn(model_dir, context=None):
        pass
