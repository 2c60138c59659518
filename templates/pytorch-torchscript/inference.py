"""SageMaker PyTorch serving handlers for a TorchScript model.

Layout of model.tar.gz (smpack build MODEL_DIR --code CODE_DIR -o model.tar.gz):
    model.pt                 the model, saved with torch.jit.save(torch.jit.script(net), ...)
    code/inference.py        this file
    code/requirements.txt    extra packages, installed when the container starts

The PyTorch container calls model_fn once per worker when it starts, then for every
request input_fn -> predict_fn -> output_fn. Each handler may take a trailing
`context` argument (the toolkit passes it when the function has room for it).
"""

import json
import os

import torch

MODEL_FILE = "model.pt"
JSON_CONTENT_TYPE = "application/json"
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_fn(model_dir, context=None):
    """Loads the model once per worker.

    Receives: model_dir, the directory the archive was extracted to (/opt/ml/model).
    Returns: the TorchScript module in eval mode on the GPU when there is one; the
    container hands it to predict_fn as `model`.
    """
    model = torch.jit.load(os.path.join(model_dir, MODEL_FILE), map_location=DEVICE)
    model.eval()
    return model


def input_fn(request_body, request_content_type, context=None):
    """Decodes one request.

    Receives: the request body (str for JSON and CSV, which the toolkit decodes;
    bytes otherwise) and its Content-Type header.
    Returns: a float32 tensor on the model's device, for predict_fn. Here the body is
    a JSON array (nested lists, one row per example).
    """
    if request_content_type != JSON_CONTENT_TYPE:
        raise ValueError(
            f"unsupported content type {request_content_type!r}; send {JSON_CONTENT_TYPE}"
        )
    return torch.tensor(json.loads(request_body), dtype=torch.float32, device=DEVICE)


def predict_fn(input_data, model, context=None):
    """Runs the model.

    Receives: what input_fn returned and what model_fn returned.
    Returns: the model's output tensor, for output_fn.
    """
    with torch.inference_mode():
        return model(input_data)


def output_fn(prediction, accept, context=None):
    """Encodes the response.

    Receives: what predict_fn returned and the request's Accept header.
    Returns: (body, content type); the toolkit reads a tuple as exactly that.
    """
    if accept not in (JSON_CONTENT_TYPE, "*/*"):
        raise ValueError(f"unsupported accept type {accept!r}; ask for {JSON_CONTENT_TYPE}")
    return json.dumps(prediction.cpu().tolist()), JSON_CONTENT_TYPE
