# The else branch of the main guard runs on import.
if __name__ == '__main__':
    def model_fn(model_dir):
        pass
else:
    def model_fn(model_dir, context):
        pass
