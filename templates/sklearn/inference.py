"""SageMaker scikit-learn serving handlers.

Layout of model.tar.gz (smpack build MODEL_DIR --code CODE_DIR -o model.tar.gz):
    model.joblib             the fitted estimator, saved with joblib.dump(estimator, ...)
    code/inference.py        this file
    code/requirements.txt    extra packages, installed when the container starts

The scikit-learn container has no default model loader: model_fn is required. It
calls model_fn once per worker when it starts, then for every request
input_fn -> predict_fn -> output_fn (it never calls transform_fn).
"""

import io
import json
import os

import joblib
import numpy as np

MODEL_FILE = "model.joblib"
JSON_CONTENT_TYPE = "application/json"
CSV_CONTENT_TYPE = "text/csv"


def model_fn(model_dir):
    """Loads the estimator once per worker.

    Receives: model_dir, the directory the archive was extracted to (/opt/ml/model).
    Returns: the estimator; the container hands it to predict_fn as `model`.
    joblib.load unpickles, so load only files you wrote.
    """
    return joblib.load(os.path.join(model_dir, MODEL_FILE))


def input_fn(request_body, request_content_type):
    """Decodes one request.

    Receives: the request body (str for JSON and CSV, which the toolkit decodes;
    bytes otherwise) and its Content-Type header.
    Returns: a 2-D float array, one row per example (a flat JSON list or a single
    CSV line is one example), for predict_fn.
    """
    if isinstance(request_body, bytes):
        request_body = request_body.decode("utf-8")
    if request_content_type == JSON_CONTENT_TYPE:
        return np.atleast_2d(np.asarray(json.loads(request_body), dtype=np.float64))
    if request_content_type == CSV_CONTENT_TYPE:
        return np.loadtxt(io.StringIO(request_body), delimiter=",", dtype=np.float64, ndmin=2)
    raise ValueError(
        f"unsupported content type {request_content_type!r}; "
        f"send {JSON_CONTENT_TYPE} or {CSV_CONTENT_TYPE}"
    )


def predict_fn(input_data, model):
    """Runs the estimator.

    Receives: what input_fn returned and what model_fn returned.
    Returns: model.predict's numpy array (one value or row per example), for output_fn.
    """
    return model.predict(input_data)


def output_fn(prediction, accept):
    """Encodes the response.

    Receives: what predict_fn returned and the request's Accept header.
    Returns: (body, content type); the toolkit reads a tuple as exactly that.
    """
    if accept not in (JSON_CONTENT_TYPE, "*/*"):
        raise ValueError(f"unsupported accept type {accept!r}; ask for {JSON_CONTENT_TYPE}")
    return json.dumps(np.asarray(prediction).tolist()), JSON_CONTENT_TYPE
