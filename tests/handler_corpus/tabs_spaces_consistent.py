# A tab in one block and spaces in another is fine.
def model_fn(model_dir):
	return model_dir


def predict_fn(data, model):
        return data
