"""smpack invoke's driver: runs a model archive's handlers in this Python as the SageMaker
inference toolkit does (sagemaker-inference's Transformer, with the framework toolkit's
default handlers when they are installed), for requests smpack sends. Shipped with smpack;
it needs nothing but the toolkit.

    python invoke_driver.py MODEL_DIR FRAMEWORK

Requests arrive on file descriptor 4 and events leave on file descriptor 3, one JSON object
per line, so that the handlers' own prints (stdout, stderr) stay apart:
    <- {"id": N, "body": BASE64, "content_type": str|null, "accept": str|null}
    -> {"event": "started", "python": ..., "toolkit": ..., "handler": ..., "installed": {...}}
    -> {"event": "missing", "error": ...}                  the toolkit does not import
    -> {"event": "loaded", "ms": ...} | {"event": "load_failed", "traceback": ...}
    -> {"event": "response", "id": N, "status", "content_type", "body": BASE64, "ms"}
"""

import base64
import json
import os
import sys
import time
import traceback


class RequestProcessor:
    """The request's headers, as the model server hands them to the toolkit."""

    def __init__(self, headers):
        self.headers = headers

    def get_request_properties(self):
        return self.headers


class Context:
    """What the model server's context offers the toolkit and the handlers. As in the
    model server, one object lives from the load on, and each request sets its
    headers and response fields (Transformer hands handlers the load's context)."""

    def __init__(self, model_dir):
        self.system_properties = {"model_dir": model_dir, "gpu_id": None}
        self.begin({})

    def begin(self, headers):
        self.request_processor = [RequestProcessor(headers)]
        self.status = 200
        self.content_type = None

    def set_response_status(self, code, phrase):
        self.status = code

    def set_response_content_type(self, index, content_type):
        self.content_type = content_type

    def get_request_header(self, index, name):
        return self.request_processor[0].headers.get(name)


def main():
    model_dir, framework = sys.argv[1], sys.argv[2]
    # Private copies of the pipes, and /dev/null where they were, so that a handler that
    # writes to or closes fd 3 or 4 cannot touch smpack's channel.
    events = os.fdopen(os.dup(3), "w", encoding="utf-8")
    requests = os.fdopen(os.dup(4), "r", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 3, inheritable=False)
    os.dup2(null, 4, inheritable=False)
    os.close(null)

    def emit(**event):
        events.write(json.dumps(event) + "\n")
        events.flush()

    try:
        from sagemaker_inference.transformer import Transformer
        from sagemaker_inference import default_inference_handler
    except ImportError as error:
        emit(event="missing", error=str(error))
        return
    handler = default_inference_handler.DefaultInferenceHandler()
    handler_name = "sagemaker_inference.DefaultInferenceHandler"
    if framework == "pytorch":
        try:
            from sagemaker_pytorch_serving_container.default_pytorch_inference_handler import (
                DefaultPytorchInferenceHandler,
            )
        except ImportError as error:
            emit(event="missing", error=str(error))
            return
        handler = DefaultPytorchInferenceHandler()
        handler_name = "sagemaker_pytorch_serving_container.DefaultPytorchInferenceHandler"

    from importlib import metadata

    installed = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name and name not in installed:
            installed[name] = distribution.version
    emit(event="started", python=sys.executable, version=sys.version.split()[0],
         toolkit=installed.get("sagemaker-inference", "?"), handler=handler_name,
         installed=installed)

    # The container puts code/ on sys.path and imports SAGEMAKER_PROGRAM from there.
    sys.path.insert(0, os.path.join(model_dir, "code"))
    transformer = Transformer(default_inference_handler=handler)
    context = Context(model_dir)
    start = time.perf_counter()
    try:
        transformer.validate_and_initialize(model_dir=model_dir, context=context)
    except BaseException:  # noqa: B902 - the user's model_fn may raise anything
        emit(event="load_failed", traceback=traceback.format_exc())
        return
    emit(event="loaded", ms=1000 * (time.perf_counter() - start))

    for line in requests:
        request = json.loads(line)
        headers = {}
        if request["content_type"] is not None:
            headers["Content-Type"] = request["content_type"]
        if request["accept"] is not None:
            headers["Accept"] = request["accept"]
        context.begin(headers)
        start = time.perf_counter()
        result = transformer.transform([{"body": base64.b64decode(request["body"])}], context)[0]
        ms = 1000 * (time.perf_counter() - start)
        if isinstance(result, str):
            result = result.encode("utf-8")
        elif not isinstance(result, (bytes, bytearray)):
            result = str(result).encode("utf-8")
        emit(event="response", id=request["id"], status=context.status,
             content_type=context.content_type,
             body=base64.b64encode(bytes(result)).decode("ascii"), ms=ms)


if __name__ == "__main__":
    main()
