"""SageMaker PyTorch serving handlers for a model saved as a state dict.

Layout of model.tar.gz (smpack build MODEL_DIR --code CODE_DIR -o model.tar.gz):
    model.pth                the weights, saved with torch.save(net.state_dict(), ...)
    code/inference.py        this file
    code/requirements.txt    extra packages, installed when the container starts

Without a model_fn the container would load model.pth with torch.jit.load, which
fails on a state dict: model_fn below builds the network and loads the weights into
it. The container calls model_fn once per worker when it starts, then for every
request input_fn -> predict_fn -> output_fn. Each handler may take a trailing
`context` argument (the toolkit passes it when the function has room for it).
"""

import json
import os

import torch
from torch import nn

WEIGHTS_FILE = "model.pth"
JSON_CONTENT_TYPE = "application/json"
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Net(nn.Module):
    """The network the weights belong to: replace it with your own architecture (or
    import it from a module you ship next to this file in code/)."""

    def __init__(self, in_features=4, out_features=2):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x):
        return self.linear(x)


def model_fn(model_dir, context=None):
    """Loads the model once per worker.

    Receives: model_dir, the directory the archive was extracted to (/opt/ml/model).
    Returns: a Net with the saved weights, in eval mode on the GPU when there is one;
    the container hands it to predict_fn as `model`. weights_only=True refuses
    anything in the file but tensors, so a tampered file cannot run code.
    """
    model = Net()
    state_dict = torch.load(
        os.path.join(model_dir, WEIGHTS_FILE), map_location=DEVICE, weights_only=True
    )
    model.load_state_dict(state_dict)
    model.to(DEVICE)
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
