# A tab and eight spaces at the same level: TabError.
def model_fn(model_dir):
	if model_dir:
        	return model_dir
