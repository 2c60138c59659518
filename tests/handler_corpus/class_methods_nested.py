# Handlers as methods of a class are not module attributes.
class Handler:
    def model_fn(self, model_dir):
        pass

    def predict_fn(self, data, model):
        pass
