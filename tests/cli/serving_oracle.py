"""The serving oracle: the real sagemaker-inference Transformer with the PyTorch
container's default handler (sagemaker-pytorch-inference), run in .venv-serving, which
sees Debian's torch. Reads {"model_dir", "requests": [{"body", "content_type", "accept"}]}
(bodies base64) on stdin, answers every request in one process, and prints
[{"status", "content_type", "body"}] (bodies base64): what the container's model server
would send back."""

import base64
import json
import os
import sys
import warnings
from pathlib import Path

warnings.simplefilter("ignore")

from sagemaker_inference.transformer import Transformer  # noqa: E402
from sagemaker_pytorch_serving_container.default_pytorch_inference_handler import (  # noqa: E402
    DefaultPytorchInferenceHandler,
)

# The model server's context, as smpack invoke's driver fakes it (one object, per request
# headers and response fields).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "libpack" / "src" / "serving"))
from invoke_driver import Context  # noqa: E402


def main():
    job = json.load(sys.stdin)
    # The toolkit imports SAGEMAKER_PROGRAM (inference.py) if it can find it: keep the
    # working folder, which holds no such module, out of the search.
    sys.path = [p for p in sys.path if p not in ("", os.getcwd())]
    transformer = Transformer(default_inference_handler=DefaultPytorchInferenceHandler())
    answers = []
    for request in job["requests"]:
        headers = {}
        if request["content_type"] is not None:
            headers["Content-Type"] = request["content_type"]
        if request["accept"] is not None:
            headers["Accept"] = request["accept"]
        context = Context(job["model_dir"])
        context.begin(headers)
        body = base64.b64decode(request["body"])
        result = transformer.transform([{"body": body}], context)[0]
        if isinstance(result, str):
            result = result.encode()
        answers.append({"status": context.status, "content_type": context.content_type,
                        "body": base64.b64encode(result).decode()})
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
