# Handlers under the main guard do not exist on import.
import sys

if __name__ == "__main__":
    def model_fn(model_dir):
        pass

    predict_fn = lambda d, m: d
