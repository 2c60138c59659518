# Bodies indented with tabs.
def model_fn(model_dir):
	if model_dir:
		return model_dir
	return None


def predict_fn(data, model):
	return data
