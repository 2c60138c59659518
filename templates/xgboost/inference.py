"""SageMaker XGBoost serving handlers.

Layout of model.tar.gz (smpack build MODEL_DIR --code CODE_DIR -o model.tar.gz):
    xgboost-model            the booster, saved with booster.save_model("xgboost-model")
    code/inference.py        this file
    code/requirements.txt    extra packages, installed when the container starts

The container calls model_fn once per worker when it starts, then for every request
input_fn -> predict_fn -> output_fn.
"""

import io
import json
import os

import numpy as np
import xgboost as xgb

MODEL_FILE = "xgboost-model"
JSON_CONTENT_TYPE = "application/json"
CSV_CONTENT_TYPE = "text/csv"


def model_fn(model_dir):
    """Loads the booster once per worker.

    Receives: model_dir, the directory the archive was extracted to (/opt/ml/model).
    Returns: the xgboost.Booster; the container hands it to predict_fn as `model`.
    """
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, MODEL_FILE))
    return booster


def input_fn(request_body, request_content_type):
    """Decodes one request.

    Receives: the request body (str for JSON and CSV, which the toolkit decodes;
    bytes otherwise) and its Content-Type header.
    Returns: an xgboost.DMatrix, one row per example (a flat JSON list or a single
    CSV line is one example), for predict_fn.
    """
    if isinstance(request_body, bytes):
        request_body = request_body.decode("utf-8")
    if request_content_type == JSON_CONTENT_TYPE:
        rows = np.atleast_2d(np.asarray(json.loads(request_body), dtype=np.float32))
    elif request_content_type == CSV_CONTENT_TYPE:
        rows = np.loadtxt(io.StringIO(request_body), delimiter=",", dtype=np.float32, ndmin=2)
    else:
        raise ValueError(
            f"unsupported content type {request_content_type!r}; "
            f"send {JSON_CONTENT_TYPE} or {CSV_CONTENT_TYPE}"
        )
    return xgb.DMatrix(rows)


def predict_fn(input_data, model):
    """Runs the booster.

    Receives: what input_fn returned and what model_fn returned.
    Returns: Booster.predict's numpy array (one score or row of scores per example),
    for output_fn.
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
