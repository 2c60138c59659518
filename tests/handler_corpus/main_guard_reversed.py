# "__main__" == __name__ is the same guard.
if "__main__" == __name__:
    def predict_fn(data, model):
        pass


def model_fn(model_dir):
    pass
