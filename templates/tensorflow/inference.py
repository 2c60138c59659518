"""SageMaker TensorFlow Serving handlers.

Layout of model.tar.gz (smpack build MODEL_DIR --code CODE_DIR -o model.tar.gz):
    1/saved_model.pb, 1/variables/    the SavedModel, in an all-digit version folder
    code/inference.py        this file (TF Serving ignores SAGEMAKER_PROGRAM)
    code/requirements.txt    extra packages, ignored when code/lib/ exists

TF Serving runs the model; these handlers only translate each request into a TF
Serving REST "predict" request and its response back. The container calls
input_handler, sends what it returns to TF Serving, then calls output_handler with
the answer. Both take exactly (data, context). Defining `handler(data, context)`
instead replaces both and the call to TF Serving.
"""

import json

JSON_CONTENT_TYPE = "application/json"
CSV_CONTENT_TYPE = "text/csv"


def input_handler(data, context):
    """Turns one request into a TF Serving predict request.

    Receives: data, the request body as a file-like object (data.read() gives bytes),
    and context, whose request_content_type and accept_header are the request's
    Content-Type and Accept headers.
    Returns: the JSON text of a TF Serving REST request, e.g. {"instances": [...]}.
    """
    body = data.read().decode("utf-8")
    if context.request_content_type == JSON_CONTENT_TYPE:
        return body
    if context.request_content_type == CSV_CONTENT_TYPE:
        rows = [[float(value) for value in line.split(",")] for line in body.splitlines() if line]
        return json.dumps({"instances": rows})
    raise ValueError(
        f"unsupported content type {context.request_content_type!r}; "
        f"send {JSON_CONTENT_TYPE} or {CSV_CONTENT_TYPE}"
    )


def output_handler(data, context):
    """Turns TF Serving's answer into the response.

    Receives: data, TF Serving's HTTP response (data.status_code, data.content as
    bytes: JSON such as {"predictions": [...]}), and the same context as input_handler.
    Returns: (body, content type) for the client.
    """
    if data.status_code != 200:
        raise ValueError(data.content.decode("utf-8"))
    return data.content, JSON_CONTENT_TYPE
