"""Loopback fakes of the two credential endpoints an SDK falls back to: the
ECS/container credentials endpoint and EC2's IMDSv2. Both hand out credentials
given by the test, normally S3Server.assume_role() ones so the client can then be
checked against moto with them.

Why assume_role credentials: the endpoints always carry a session Token, which
the client then sends as x-amz-security-token, and moto (5.1.22) rejects a token
next to a plain IAM user key (400 InvalidToken); it accepts one only with the
ASIA key AssumeRole issued, and then only that role's exact token.
"""

from __future__ import annotations

import datetime as _dt
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple


class CredRequest(NamedTuple):
    method: str
    path: str
    headers: dict  # lower-cased name -> value


def _iso(t: _dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _in_an_hour() -> str:
    return _iso(_dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(hours=1))


class _FakeServer:
    """A threaded HTTP/1.1 server on 127.0.0.1:<free port> whose `_handle(method,
    path, headers)` returns (status, content type, body, extra headers)."""

    def __init__(self) -> None:
        self.requests: list[CredRequest] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake.requests.append(CredRequest(self.command, self.path, headers))
                status, ctype, body, extra = fake._handle(self.command, self.path, headers)
                body = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

            def log_message(self, *args) -> None:  # quiet under pytest
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handle(self, method: str, path: str, headers: dict):
        raise NotImplementedError


class ContainerCredentialsServer(_FakeServer):
    """The ECS/EKS container credentials endpoint, used through
    AWS_CONTAINER_CREDENTIALS_FULL_URI (= .url) and, when `auth_token` is given,
    AWS_CONTAINER_AUTHORIZATION_TOKEN, whose value must then arrive verbatim in
    the Authorization header (else 401). Serves GET `path` only (else 404).
    The credential attributes may be changed between requests; `expiration`
    None means an hour after each request."""

    def __init__(self, access_key: str, secret_key: str, token: str, *,
                 auth_token: str | None = None, path: str = "/creds",
                 expiration: str | None = None):
        self.access_key, self.secret_key, self.token = access_key, secret_key, token
        self.auth_token, self.path, self.expiration = auth_token, path, expiration
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}{path}"

    def env(self) -> dict[str, str]:
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url}
        if self.auth_token is not None:
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = self.auth_token
        return env

    def _handle(self, method, path, headers):
        if method != "GET" or path != self.path:
            return 404, "text/plain", "Not Found", {}
        if self.auth_token is not None and headers.get("authorization") != self.auth_token:
            return 401, "application/json", json.dumps(
                {"code": "AccessDeniedException", "message": "invalid authorization token"}), {}
        return 200, "application/json", json.dumps({
            "AccessKeyId": self.access_key, "SecretAccessKey": self.secret_key,
            "Token": self.token, "Expiration": self.expiration or _in_an_hour(),
            "RoleArn": "arn:aws:iam::123456789012:role/smpack-test-role",
        }), {}


class InstanceMetadataServer(_FakeServer):
    """EC2 IMDSv2, used through AWS_EC2_METADATA_SERVICE_ENDPOINT (= .endpoint,
    with the trailing slash) with AWS_EC2_METADATA_DISABLED not "true" (env()
    gives both).

    PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds (1..21600,
    else 400) and returns a fresh token. GET .../iam/security-credentials/ returns
    the role name and GET .../iam/security-credentials/ROLE the credentials JSON;
    both need X-aws-ec2-metadata-token equal to an issued token, else 401 (with
    require_token=False a missing token is allowed: IMDSv1). Anything else: 404.
    """

    CREDS = "/latest/meta-data/iam/security-credentials/"

    def __init__(self, access_key: str, secret_key: str, token: str, *,
                 role: str = "smpack-test-role", require_token: bool = True,
                 expiration: str | None = None):
        self.access_key, self.secret_key, self.token = access_key, secret_key, token
        self.role, self.require_token, self.expiration = role, require_token, expiration
        self.issued_tokens: list[str] = []
        super().__init__()
        self.endpoint = f"http://127.0.0.1:{self.port}/"

    def env(self) -> dict[str, str]:
        return {"AWS_EC2_METADATA_SERVICE_ENDPOINT": self.endpoint,
                "AWS_EC2_METADATA_DISABLED": "false"}

    def _handle(self, method, path, headers):
        if path == "/latest/api/token":
            if method != "PUT":
                return 405, "text/plain", "", {}
            ttl = headers.get("x-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return 400, "text/plain", "", {}
            token = secrets.token_urlsafe(32)
            with self._lock:
                self.issued_tokens.append(token)
            return 200, "text/plain", token, {"X-aws-ec2-metadata-token-ttl-seconds": ttl}
        if method != "GET" or path.rstrip("/") not in (self.CREDS.rstrip("/"), self.CREDS + self.role):
            return 404, "text/plain", "", {}
        sent = headers.get("x-aws-ec2-metadata-token")
        if (sent is not None or self.require_token) and sent not in self.issued_tokens:
            return 401, "text/plain", "", {}
        if path.rstrip("/") == self.CREDS.rstrip("/"):
            return 200, "text/plain", self.role, {}
        now = _dt.datetime.now(_dt.timezone.utc)
        return 200, "text/plain", json.dumps({
            "Code": "Success", "LastUpdated": _iso(now), "Type": "AWS-HMAC",
            "AccessKeyId": self.access_key, "SecretAccessKey": self.secret_key,
            "Token": self.token, "Expiration": self.expiration or _in_an_hour(),
        }), {}
