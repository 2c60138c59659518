"""SageMaker Hugging Face serving handlers for a transformers pipeline.

Layout of model.tar.gz (smpack build MODEL_DIR --code CODE_DIR -o model.tar.gz):
    config.json, tokenizer files, model.safetensors    at the root, as save_pretrained writes them
    code/inference.py        this file
    code/requirements.txt    extra packages, installed when the container starts

The task comes from the endpoint's HF_TASK environment variable (e.g.
"text-classification"); when it is unset, transformers infers it from config.json.
The container calls model_fn once per worker when it starts, then for every request
input_fn -> predict_fn -> output_fn. Each handler may take a trailing `context`
argument (the toolkit passes it when the function has room for it).
"""

import json
import os

import torch
from transformers import pipeline

JSON_CONTENT_TYPE = "application/json"


def model_fn(model_dir, context=None):
    """Loads the pipeline once per worker.

    Receives: model_dir, the directory the archive was extracted to (/opt/ml/model).
    Returns: a transformers pipeline on the first GPU when there is one; the container
    hands it to predict_fn as `model`.
    """
    device = 0 if torch.cuda.is_available() else -1
    return pipeline(task=os.environ.get("HF_TASK"), model=model_dir, device=device)


def input_fn(request_body, request_content_type, context=None):
    """Decodes one request.

    Receives: the request body (str for JSON, which the toolkit decodes; bytes
    otherwise) and its Content-Type header.
    Returns: a dict {"inputs": ..., "parameters": {...}} for predict_fn; a body that is
    not such a dict is taken as the inputs themselves.
    """
    if request_content_type != JSON_CONTENT_TYPE:
        raise ValueError(
            f"unsupported content type {request_content_type!r}; send {JSON_CONTENT_TYPE}"
        )
    payload = json.loads(request_body)
    if isinstance(payload, dict) and "inputs" in payload:
        return payload
    return {"inputs": payload}


def predict_fn(data, model, context=None):
    """Runs the pipeline.

    Receives: what input_fn returned and what model_fn returned.
    Returns: the pipeline's output (lists and dicts of plain values), for output_fn.
    """
    parameters = data.get("parameters") or {}
    return model(data["inputs"], **parameters)


def output_fn(prediction, accept, context=None):
    """Encodes the response.

    Receives: what predict_fn returned and the request's Accept header.
    Returns: (body, content type); the toolkit reads a tuple as exactly that.
    """
    if accept not in (JSON_CONTENT_TYPE, "*/*"):
        raise ValueError(f"unsupported accept type {accept!r}; ask for {JSON_CONTENT_TYPE}")
    return json.dumps(prediction), JSON_CONTENT_TYPE
