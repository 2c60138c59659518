# Handlers defined inside a function are not module attributes.
def main():
    def model_fn(model_dir):
        pass

    def input_handler(data, context):
        pass
    return model_fn
