"""A real, authenticating S3 endpoint on loopback for the S3 tests: moto's server
in a subprocess on 127.0.0.1, with every request's SigV4 signature checked.

How authentication is set up (moto 5.1.22, read from moto/core/authorization.py,
moto/iam/access_control.py and moto/moto_api/_internal/responses.py):

* moto checks signatures only once `ActionAuthenticatorMixin.request_count` has
  reached `settings.INITIAL_NO_AUTH_ACTION_COUNT` (env var, default infinity, so
  by default nothing is checked).
* A fresh server has no IAM users, so with the count at 0 from the start no key
  could ever sign the IAM calls that create one. The server therefore starts
  with the default (no checks), we create through boto3 an IAM user, an inline
  allow-all policy and an access key, plus an assumable role (see
  `assume_role`), and then POST "0" to moto's own `/moto-api/reset-auth`
  endpoint, which sets INITIAL_NO_AUTH_ACTION_COUNT = 0 and resets the request
  count. This is the mechanism moto's `set_initial_no_auth_action_count` uses in
  server mode; it leaves the server exactly as if INITIAL_NO_AUTH_ACTION_COUNT=0
  with that user pre-existing. (A count consumed exactly by the setup calls
  works too, but silently breaks if the setup ever makes one call more or less.)
* `start()` then proves enforcement: a request signed with a wrong secret must
  get 403 SignatureDoesNotMatch, or startup fails.

Nothing here reads ~/.aws: boto3 clients get explicit credentials, endpoint and
no proxies, and `env()` builds hermetic environments for subprocesses.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REGION = "us-east-1"
USER_NAME = "smpack-test"
ROLE_NAME = "smpack-test-role"
_ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)

# Runs in the child. Binding port 0 in the child and reporting the port back avoids
# the pick-a-free-port-then-bind race. After the port line, stdout goes to /dev/null
# so nothing can ever block on a pipe nobody reads; werkzeug's per-request log lines
# are silenced (stderr, kept in a file, is for tracebacks).
#
# One fix to moto: it verifies a signature against flask's `request.url`, which
# werkzeug rebuilds as an IRI, percent-DECODING most reserved characters (%2F in
# the query, %2B %3D %3A %40 %21 %28 %2C ... and non-ASCII in the path). Every
# correctly signed request for a key such as "a+b" or "ü", or a ListObjectsV2 with
# prefix=d%2F, then fails with SignatureDoesNotMatch although real S3 accepts it.
# The patch recomputes the signature over what the client actually sent: the raw
# request path (S3 does not normalise it) and the raw query re-encoded the SigV4
# way (RFC 3986 unreserved characters kept, everything else %XX). Nothing else in
# moto's checking changes: key lookup, secret, signed headers, payload hash header.
_BOOTSTRAP = r"""
import logging, os, sys
from urllib.parse import quote, unquote, urlsplit
import flask
from werkzeug.serving import make_server
from moto.iam import access_control
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

_moto_create_aws_request = access_control.IAMRequestBase._create_aws_request

def _create_aws_request(self):
    request = _moto_create_aws_request(self)
    raw = flask.request.environ.get("RAW_URI")
    if raw:
        parts = urlsplit(raw)
        enc = lambda s: quote(unquote(s), safe="-_.~")
        query = "&".join(enc(k) + "=" + enc(v) for k, _, v in
                         (item.partition("=") for item in parts.query.split("&") if item))
        request.url = parts.path + ("?" + query if query else "")
    return request

access_control.IAMRequestBase._create_aws_request = _create_aws_request
logging.getLogger("werkzeug").setLevel(logging.WARNING)
server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True)
port = server.server_address[1]
os.environ["MOTO_PORT"] = str(port)
sys.stdout.write(f"{port}\n")
sys.stdout.flush()
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
server.serve_forever()
"""

# Variables that would send a client somewhere other than loopback.
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def boto3_client(service: str, endpoint: str, access_key: str, secret_key: str,
                 session_token: str | None = None, region: str = REGION, **config):
    """A boto3 client that talks only to `endpoint` with exactly these credentials:
    no profile, config file, environment proxy or metadata lookup is involved.
    `config` entries go to botocore.config.Config (e.g. retries=...)."""
    import boto3
    import botocore.config
    import botocore.session

    # session_vars entries are (config name, env var, default, converter): these
    # three ignore AWS_PROFILE / AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE and
    # point at a file that does not exist, so no profile or ~/.aws file is read.
    missing = str(Path(tempfile.gettempdir()) / f"no-aws-config-{uuid.uuid4().hex}")
    core = botocore.session.Session(session_vars={
        "profile": (None, None, None, None),
        "config_file": (None, None, missing, None),
        "credentials_file": (None, None, missing, None),
    })
    s3_config = config.pop("s3", {"addressing_style": "path"})
    cfg = botocore.config.Config(proxies={}, s3=s3_config,
                                 retries=config.pop("retries", {"max_attempts": 1, "mode": "standard"}),
                                 **config)
    return boto3.session.Session(botocore_session=core).client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, aws_session_token=session_token, config=cfg)


def hermetic_env(home: Path, **extra: str | None) -> dict[str, str]:
    """A copy of os.environ without any AWS_* or proxy variable, HOME at `home` (no
    .aws inside), the shared config/credentials files pointing at nonexistent paths
    and IMDS disabled; then `extra` (a None value removes the variable)."""
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith("AWS_") and k.lower() not in _PROXY_VARS}
    env.update({
        "HOME": str(home),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class S3Server:
    """moto's S3 (and IAM/STS) server on 127.0.0.1:<free port>, authenticating.

    with S3Server() as s3:
        s3.client().create_bucket(Bucket="b")
        subprocess.run([...], env=s3.env())
    """

    region = REGION

    def __init__(self, startup_timeout: float = 30.0):
        self.startup_timeout = startup_timeout
        self.endpoint = ""
        self.access_key = ""
        self.secret_key = ""
        self.user_arn = ""
        self.role_arn = ""
        self._proc: subprocess.Popen | None = None
        self._tmp: Path | None = None

    # -- lifecycle ---------------------------------------------------------------

    def __enter__(self) -> "S3Server":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "S3Server":
        self._tmp = Path(tempfile.mkdtemp(prefix="smpack-s3-"))
        (self._tmp / "home").mkdir()
        self._stderr_path = self._tmp / "moto.stderr"
        # Auth off while we create the user (see the module docstring); the server
        # itself must not see the caller's AWS settings either.
        child_env = hermetic_env(self._tmp / "home", INITIAL_NO_AUTH_ACTION_COUNT=None,
                                 PYTHONUNBUFFERED="1")
        with open(self._stderr_path, "wb") as stderr:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _BOOTSTRAP], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=stderr, env=child_env, cwd=self._tmp)
        try:
            port = self._read_port()
            self.endpoint = f"http://127.0.0.1:{port}"
            self._wait_until_answering()
            self._create_identities()
            self._post_moto_api("reset-auth", b"0")
            self._check_auth_enforced()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            if self._proc.stdout:
                self._proc.stdout.close()
            self._proc = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _fail(self, what: str) -> None:
        stderr = self._stderr_path.read_text(errors="replace") if self._stderr_path.exists() else ""
        raise RuntimeError(f"moto server {what}; its stderr:\n{stderr[-8000:]}")

    def _read_port(self) -> int:
        deadline = time.monotonic() + self.startup_timeout
        out = self._proc.stdout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail(f"did not report its port within {self.startup_timeout}s")
            ready, _, _ = select.select([out], [], [], min(left, 0.2))
            if ready:
                chunk = os.read(out.fileno(), 64)
                if not chunk:
                    self._proc.wait(timeout=5)
                    self._fail(f"exited with status {self._proc.returncode} before listening")
                line += chunk
        return int(line.strip())

    def _wait_until_answering(self) -> None:
        # The socket is listening once the port is printed; this only guards against
        # serve_forever() not getting going (and surfaces a crashed child).
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", int(self.endpoint.rsplit(":", 1)[1])), 1):
                    return
            except OSError:
                if self._proc.poll() is not None:
                    self._fail(f"exited with status {self._proc.returncode}")
                if time.monotonic() > deadline:
                    self._fail("is not accepting connections")
                time.sleep(0.02)

    def _post_moto_api(self, name: str, body: bytes) -> dict:
        req = urllib.request.Request(f"{self.endpoint}/moto-api/{name}", data=body, method="POST",
                                     # not urllib's default form type: flask would
                                     # parse the body away as a form
                                     headers={"Content-Type": "text/plain"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as resp:
            return json.loads(resp.read())

    def _create_identities(self) -> None:
        # Auth is still off: the signing key of these calls is not checked.
        iam = boto3_client("iam", self.endpoint, "setup", "setup")
        self.user_arn = iam.create_user(UserName=USER_NAME)["User"]["Arn"]
        iam.put_user_policy(UserName=USER_NAME, PolicyName="allow-all", PolicyDocument=_ALLOW_ALL)
        key = iam.create_access_key(UserName=USER_NAME)["AccessKey"]
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": self.user_arn}, "Action": "sts:AssumeRole"}]}
        self.role_arn = iam.create_role(RoleName=ROLE_NAME,
                                        AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="allow-all", PolicyDocument=_ALLOW_ALL)

    def _check_auth_enforced(self) -> None:
        from botocore.exceptions import ClientError

        self.client().list_buckets()
        try:
            boto3_client("s3", self.endpoint, self.access_key, self.secret_key + "x").list_buckets()
        except ClientError as e:
            if e.response["Error"]["Code"] == "SignatureDoesNotMatch":
                return
            raise
        self._fail("accepted a request signed with a wrong secret")

    # -- use ---------------------------------------------------------------------

    def client(self, service: str = "s3", endpoint: str | None = None, **config):
        """A boto3 client signed with the IAM user's key, path-style addressing, no
        retries unless `retries=` is given. `endpoint` defaults to the server's
        (pass an S3Proxy's endpoint to go through the proxy)."""
        return boto3_client(service, endpoint or self.endpoint, self.access_key,
                            self.secret_key, **config)

    def assume_role(self, duration: int = 3600) -> dict[str, str]:
        """Temporary credentials that moto accepts together with their session
        token: {"AccessKeyId" (ASIA...), "SecretAccessKey", "SessionToken",
        "Expiration" (ISO 8601)}. moto rejects x-amz-security-token alongside the
        IAM user's AKIA key (InvalidToken), and the keys GetSessionToken returns
        are a fixed example pair that no IAM user owns, so AssumeRole is the one
        source of token-bearing credentials that authenticate."""
        sts = self.client("sts")
        creds = sts.assume_role(RoleArn=self.role_arn, RoleSessionName="smpack",
                                DurationSeconds=duration)["Credentials"]
        creds["Expiration"] = creds["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ")
        return creds

    def new_bucket(self, prefix: str = "smpack") -> str:
        """Creates a bucket with a unique name (the server is shared by a session)."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, **extra: str | None) -> dict[str, str]:
        """A complete environment for subprocess.run(env=...): os.environ without
        AWS_*/proxy variables, plus this server's key, region and endpoint, IMDS
        disabled and HOME / shared config files that do not exist. `extra` is
        applied last; None removes a variable (e.g. AWS_ACCESS_KEY_ID=None)."""
        values = {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
        }
        values.update(extra)
        return hermetic_env(self._tmp / "home", **values)

    def overrides(self, **extra: str | None) -> dict[str, str | None]:
        """env() expressed as changes to os.environ (None = remove), for helpers
        such as conftest.run_smpack(env=...) that merge into the current
        environment rather than replace it."""
        full = self.env(**extra)
        changes: dict[str, str | None] = {k: None for k in os.environ if k not in full}
        changes.update({k: v for k, v in full.items() if os.environ.get(k) != v})
        return changes


@pytest.fixture(scope="session")
def s3_server():
    """One authenticating moto server for the whole session; use new_bucket()."""
    with S3Server() as server:
        yield server
