# Names the toolkit ignores: load, predict, preprocess.
def load(model_dir):
    pass


def predict(data, model):
    pass


def preprocess(body):
    pass
