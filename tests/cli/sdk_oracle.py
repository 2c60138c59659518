"""The SageMaker Python SDK's own code as the oracle for `repack-check` and for the deploy
calls smpack prints, run offline in one process for a batch of cases. One file serves
both major versions, each from its own venv (they pin conflicting sagemaker-core):

    .venv/bin/python sdk_oracle.py CASES.json           # sagemaker 2.x
    .venv-sdk-v3/bin/python sdk_oracle.py CASES.json    # sagemaker 3.x

CASES is a JSON list; each item is one of
  {"repack": {"framework", "framework_version", "entry_point", "source_dir",
              "dependencies", "network_isolation", "model_data", "bindings"}}
      builds the model the way docs/cli.md maps repack-check's flags onto this SDK
      version and prepares its container; answers {"repacked", "environment", "error"}.
  {"snippet": PYTHON, "bindings": {NAME: VALUE}}
      executes a deploy call that smpack printed, its placeholders bound (ROLE, IMAGE_URI,
      INSTANCE_TYPE, REGION, MODEL_NAME to dummies, the versions from "bindings");
      answers {"repacked", "created", "error"}.
Prints a JSON object {"sdk": VERSION, "results": [...]}.

Nothing leaves the machine: the session is a mock, uploads, repacks, role checks and
resource creation are patched out, telemetry is patched out (v3), and every socket
connect to an address other than loopback raises; the results say whether one was
tried ("outside_connects").
"""

import contextlib
import ipaddress
import json
import os
import socket
import sys
import traceback
from unittest import mock

os.environ.update(AWS_EC2_METADATA_DISABLED="true", AWS_ACCESS_KEY_ID="testing",
                  AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-west-2",
                  SAGEMAKER_SUPPRESS_V2_WARNING="1")

OUTSIDE_CONNECTS = []
_connect = socket.socket.connect


def _loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            OUTSIDE_CONNECTS.append(str(address))
            raise OSError(f"sdk_oracle: refused a connection to {address}")
    return _connect(self, address)


_getaddrinfo = socket.getaddrinfo


def _resolve_loopback_only(host, *args, **kwargs):
    # A lookup of any other name would itself send a DNS query off the machine.
    name = host.decode() if isinstance(host, bytes) else host
    try:
        loopback = name is None or ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = name == "localhost"
    if not loopback:
        OUTSIDE_CONNECTS.append(str(name))
        raise socket.gaierror(socket.EAI_NONAME, f"sdk_oracle: refused to resolve {name}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _loopback_only
socket.getaddrinfo = _resolve_loopback_only

import sagemaker  # noqa: E402  (after the guard)

ROLE = "arn:aws:iam::111111111111:role/SageMakerRole"
REGION = "us-west-2"
IMAGE = "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-inference:2.1.0-cpu-py310"


def sdk_version():
    from importlib.metadata import version
    return version("sagemaker")


def major():
    return int(sdk_version().split(".")[0])


def mock_session(recorder):
    session = mock.MagicMock()
    session.create_model.side_effect = recorder.create  # CreateModel, v2 and v3 alike
    session.boto_region_name = REGION
    session.boto_session.region_name = REGION
    session.default_bucket.return_value = "bucket"
    session.default_bucket_prefix = None
    session.sagemaker_config = {}
    session.config = {}
    session.local_mode = False
    # An endpoint that is up at once, for deploy()'s wait.
    session.sagemaker_client.describe_endpoint.return_value = {
        "EndpointName": "endpoint", "EndpointStatus": "InService",
        "EndpointArn": "arn:aws:sagemaker:us-west-2:111111111111:endpoint/endpoint"}
    session.wait_for_endpoint.return_value = {"EndpointStatus": "InService"}
    return session


# Every repack and CreateModel of the process, whichever case's mock made it: the SDK
# keeps sessions of earlier cases (a model class may reuse one), so each case counts
# what happened since it began.
REPACKS = []
CREATED = []


class Recorder:
    def __init__(self):
        self.first_repack = len(REPACKS)
        self.first_created = len(CREATED)

    @property
    def repacks(self):
        return REPACKS[self.first_repack:]

    @property
    def created(self):
        return CREATED[self.first_created:]

    def repack(self, *args, **kwargs):
        REPACKS.append(True)

    def create(self, *args, **kwargs):
        CREATED.append(kwargs)
        return "model"


# ---------------------------------------------------------------- SDK v2 ----
V2_CLASSES = {
    "pytorch": ("sagemaker.pytorch.model", "PyTorchModel", {"py_version": "py3"}),
    "huggingface": ("sagemaker.huggingface.model", "HuggingFaceModel",
                    {"transformers_version": "4.26", "pytorch_version": "1.13",
                     "py_version": "py39"}),
    "tensorflow": ("sagemaker.tensorflow.model", "TensorFlowModel", {}),
    "mxnet": ("sagemaker.mxnet.model", "MXNetModel", {"py_version": "py3"}),
    "sklearn": ("sagemaker.sklearn.model", "SKLearnModel", {"py_version": "py3"}),
    "xgboost": ("sagemaker.xgboost.model", "XGBoostModel", {}),
    "model": ("sagemaker.model", "Model", {}),
}
V2_DEFAULT_VERSIONS = {"huggingface": None, "tensorflow": "2.11", "sklearn": "1.2-1",
                       "xgboost": "1.7-1"}


@contextlib.contextmanager
def v2_patches(recorder):
    import sagemaker.utils
    with mock.patch.object(sagemaker.utils, "repack_model", side_effect=recorder.repack), \
         mock.patch("sagemaker.fw_utils.tar_and_upload_dir",
                    return_value=mock.MagicMock(s3_prefix="s3://bucket/code/sourcedir.tar.gz",
                                                script_name="inference.py")):
        yield


def v2_repack(case, recorder):
    import importlib
    module, name, extra = V2_CLASSES[case["framework"]]
    cls = getattr(importlib.import_module(module), name)
    kwargs = dict(extra, model_data=case.get("model_data", "s3://bucket/model.tar.gz"), role=ROLE,
                  image_uri=IMAGE, sagemaker_session=mock_session(recorder),
                  entry_point=case.get("entry_point"), source_dir=case.get("source_dir"),
                  dependencies=case.get("dependencies") or None,
                  enable_network_isolation=case.get("network_isolation", False))
    version = case.get("framework_version") or V2_DEFAULT_VERSIONS.get(case["framework"], "")
    if version and case["framework"] != "model":
        kwargs["framework_version"] = version
    model = cls(**kwargs)
    with v2_patches(recorder):
        container = model.prepare_container_def(instance_type="ml.m5.xlarge")
    return container.get("Environment", {})


# ---------------------------------------------------------------- SDK v3 ----
@contextlib.contextmanager
def v3_patches(recorder):
    import sagemaker.serve.model_builder as builder
    from sagemaker.core.resources import Endpoint, EndpointConfig, Model
    with mock.patch.object(builder, "repack_model", side_effect=recorder.repack), \
         mock.patch("sagemaker.core.fw_utils.tar_and_upload_dir",
                    return_value=mock.MagicMock(s3_prefix="s3://bucket/code/sourcedir.tar.gz",
                                                script_name="inference.py")), \
         mock.patch.object(builder, "resolve_and_validate_role", side_effect=lambda **k: ROLE), \
         mock.patch("sagemaker.core.telemetry.telemetry_logging._send_telemetry_request"), \
         mock.patch("sagemaker.core.helper.session_helper._has_permission_for_live_logging",
                    return_value=False), \
         mock.patch("time.sleep"), \
         mock.patch.object(Model, "create", side_effect=recorder.create), \
         mock.patch.object(Model, "get", return_value=mock.MagicMock()), \
         mock.patch.object(EndpointConfig, "create", return_value=mock.MagicMock()), \
         mock.patch.object(Endpoint, "create", return_value=mock.MagicMock()), \
         mock.patch.object(Endpoint, "get", return_value=mock.MagicMock()):
        yield


def v3_image(case):
    """docs/cli.md: --framework and --framework-version name the container image, which is
    all v3's ModelBuilder takes of a framework (its passthrough path never reads it). The
    versions are the case's "bindings", the placeholders of smpack's printed calls."""
    if case["framework"] == "model":
        return IMAGE
    from sagemaker.core import image_uris
    bindings = case["bindings"]
    extra = {}
    if "PY_VERSION" in bindings:
        extra["py_version"] = bindings["PY_VERSION"]
    if "PYTORCH_VERSION" in bindings:
        extra["base_framework_version"] = "pytorch" + bindings["PYTORCH_VERSION"]
    version = bindings.get("FRAMEWORK_VERSION") or bindings["TRANSFORMERS_VERSION"]
    return image_uris.retrieve(framework=case["framework"], region=REGION, version=version,
                               instance_type="ml.m5.xlarge", image_scope="inference", **extra)


def v3_repack(case, recorder):
    from sagemaker.core.training.configs import Networking, SourceCode
    from sagemaker.serve.model_builder import ModelBuilder
    source = None
    if case.get("entry_point") or case.get("source_dir") or case.get("dependencies"):
        dependencies = case.get("dependencies") or []
        source = SourceCode(source_dir=case.get("source_dir"),
                            entry_script=case.get("entry_point"),
                            requirements=dependencies[0] if dependencies else None)
    with v3_patches(recorder):
        builder = ModelBuilder(
            model_path=case.get("model_data", "s3://bucket/model.tar.gz"),
            image_uri=v3_image(case), role_arn=ROLE,
            sagemaker_session=mock_session(recorder), source_code=source,
            network=Networking(enable_network_isolation=case.get("network_isolation", False)),
            instance_type="ml.m5.xlarge")
        builder.build()
    return recorder.created[-1]["container_defs"].get("Environment", {})


# ------------------------------------------------------------------ both ----
def run_snippet(code, bindings, recorder):
    namespace = {"ROLE": ROLE, "IMAGE_URI": IMAGE, "INSTANCE_TYPE": "ml.m5.xlarge",
                 "REGION": REGION, "MODEL_NAME": "model", **bindings,
                 "sagemaker_session": mock_session(recorder)}
    code = code.replace("\"s3://BUCKET/", "\"s3://bucket/")
    # The printed call makes its own session, as a user's would: make that the mock one.
    session = namespace["sagemaker_session"]
    with contextlib.ExitStack() as stack:
        if major() == 2:
            stack.enter_context(v2_patches(recorder))
            stack.enter_context(mock.patch("sagemaker.session.Session", return_value=session))
        else:
            from sagemaker.serve.model_builder import ModelBuilder
            stack.enter_context(v3_patches(recorder))
            stack.enter_context(mock.patch.object(ModelBuilder, "_create_session_with_region",
                                                  return_value=session))
        exec(compile(code, "<deploy call>", "exec"), namespace)
    return {"created": bool(recorder.created)}


def run_case(case):
    recorder = Recorder()
    result = {"repacked": False, "error": None}
    try:
        if "repack" in case:
            repack = v2_repack if major() == 2 else v3_repack
            result["environment"] = repack(case["repack"], recorder)
        else:
            result.update(run_snippet(case["snippet"], case.get("bindings", {}), recorder))
    except Exception as error:  # the SDK's own refusal is an answer too
        result["error"] = f"{type(error).__name__}: {error}"
        result["traceback"] = traceback.format_exc(limit=3)
    result["repacked"] = bool(recorder.repacks)
    return result


def main():
    with open(sys.argv[1]) as cases_file:
        cases = json.load(cases_file)
    results = [run_case(case) for case in cases]
    # On a line of its own: the SDKs' progress panels do not end theirs.
    print("\n" + json.dumps({"sdk": sdk_version(),
                      "outside_connects": OUTSIDE_CONNECTS, "results": results}))


if __name__ == "__main__":
    main()
