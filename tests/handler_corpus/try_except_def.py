# Handlers defined inside try / finally.
try:
    def model_fn(model_dir):
        pass
except Exception:
    pass
finally:
    def output_fn(prediction, accept):
        pass
