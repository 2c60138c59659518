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

warnings.simplefilter("ignore")

from sagemaker_inference.transformer import Transformer  # noqa: E402
from sagemaker_pytorch_serving_container.default_pytorch_inference_handler import (  # noqa: E402
    DefaultPytorchInferenceHandler,
)


class RequestProcessor:
    def __init__(self, headers):
        self.headers = headers

    def get_request_properties(self):
        return self.headers


class Context:
    """The parts of the model server's context that Transformer.transform touches."""

    def __init__(self, model_dir, headers):
        self.system_properties = {"model_dir": model_dir}
        self.request_processor = [RequestProcessor(headers)]
        self.status = 200
        self.content_type = None

    def set_response_status(self, code, phrase):
        self.status = code

    def set_response_content_type(self, index, content_type):
        self.content_type = content_type


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
        context = Context(job["model_dir"], headers)
        body = base64.b64decode(request["body"])
        result = transformer.transform([{"body": body}], context)[0]
        if isinstance(result, str):
            result = result.encode()
        answers.append({"status": context.status, "content_type": context.content_type,
                        "body": base64.b64encode(result).decode()})
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
