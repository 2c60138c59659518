# Both branches bind predict_fn; the else runs, and it is last in source order.
import os

if os.environ.get("SMPACK_CORPUS_NEVER_SET"):
    def predict_fn(data, model):
        pass
else:
    def predict_fn(data, model, context):
        pass
