"""A counting, fault-injecting HTTP/1.1 pass-through in front of the moto S3 server.

The client under test uses the proxy's endpoint *as its S3 endpoint*
(AWS_ENDPOINT_URL_S3), so this is not a CONNECT/absolute-URI proxy: each request
(request line, every header including Host, body) is relayed byte for byte to the
upstream server, and the upstream response byte for byte back. SigV4 signs Host,
and moto verifies against the Host header it receives, so a request signed for
the proxy's address verifies upstream unchanged.

The one change is to the hop-by-hop Connection header of responses: werkzeug
(moto's HTTP server) answers every request with "Connection: close", so moto by
itself never keeps a connection alive. The proxy drops that header and keeps the
client's connection open (unless the client asked for close), opening a new
upstream connection per request as needed; `connections` then counts how often
the client really connected, which is what keep-alive tests want to see.

Raw sockets rather than http.server/http.client, because the proxy must relay
exactly what was sent (no header normalisation, chunking as the sender chose),
count exact byte totals, and be able to cut a connection mid-body. Bodies are
streamed in 256 KiB pieces, never held whole.

Expect: 100-continue is answered by the proxy itself (as nginx does): it sends
"HTTP/1.1 100 Continue" to the client, then reads and forwards the body; the
upstream's own 100 is dropped. That keeps fault responses simple (the body is
always read, so keep-alive stays in sync). The 25 bytes of that interim response
count in bytes_to_client.
"""

from __future__ import annotations

import re
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import Callable, NamedTuple
from urllib.parse import urlsplit

import pytest

CHUNK = 256 * 1024
FAULTS = ("500", "503", "region-redirect", "region-400", "drop", "drop-mid-body")
Match = Callable[[str, str, str], bool]


class Request(NamedTuple):
    """One request the proxy saw. headers: lower-cased name -> value (a repeated
    header keeps its last value). status: what the client was sent (an injected
    status for faults, None for "drop", 502 if the upstream was unreachable).
    fault: the injected fault's name, or None when the request was relayed."""

    method: str
    path: str
    query: str
    headers: dict
    status: int | None
    fault: str | None = None

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def signing_region(self) -> str | None:
        """The region of the SigV4 credential scope (Credential=AK/date/REGION/s3/...)."""
        m = re.search(r"Credential=[^/,]*/[^/,]*/([^/,]*)/", self.authorization or "")
        return m.group(1) if m else None


@dataclass(eq=False)  # identity comparison: two equal faults are still two
class _Fault:
    name: str
    times: int
    match: Match | None
    region: str
    body_bytes: int | None


def nth(n: int, method: str | None = None, query_contains: str | None = None) -> Match:
    """A `match` predicate true only for the n-th (1-based) request that has the
    given method and/or contains `query_contains` in its query string."""
    seen = 0
    lock = threading.Lock()

    def match(m: str, path: str, query: str) -> bool:
        nonlocal seen
        if (method and m != method) or (query_contains and query_contains not in query):
            return False
        with lock:
            seen += 1
            return seen == n

    return match


class _Closed(Exception):
    """The peer went away; the connection is finished."""


class _Conn:
    """A socket with a buffered reader and byte counting on both directions."""

    def __init__(self, sock: socket.socket, count_in=None, count_out=None):
        self.sock = sock
        self.rfile = sock.makefile("rb", buffering=CHUNK)
        self._count_in = count_in or (lambda n: None)
        self._count_out = count_out or (lambda n: None)

    def readline(self) -> bytes:
        line = self.rfile.readline(65537)
        self._count_in(len(line))
        return line

    def read_some(self, limit: int) -> bytes:
        data = self.rfile.read1(min(limit, CHUNK))
        self._count_in(len(data))
        return data

    def send(self, data: bytes) -> None:
        # Counted before sending: the client may act on the last byte (and the test
        # read the counters) before sendall() returns here.
        self._count_out(len(data))
        self.sock.sendall(data)

    def shutdown(self) -> None:
        """Ends the connection from any thread: a reader blocked in this socket
        sees EOF. (Closing rfile here instead would block on the buffer lock the
        reading thread holds.)"""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        """For the thread that owns the connection."""
        self.shutdown()
        for f in (self.rfile.close, self.sock.close):
            try:
                f()
            except OSError:
                pass


def _read_head(conn: _Conn) -> tuple[bytes, list[tuple[str, str]]] | None:
    """Reads a start line and headers; returns (raw bytes, [(name, value)]), or
    None on a clean EOF before the first byte."""
    first = conn.readline()
    while first in (b"\r\n", b"\n"):  # tolerated stray CRLF between requests
        first = conn.readline()
    if not first:
        return None
    raw, headers = [first], []
    while True:
        line = conn.readline()
        if not line:
            raise _Closed()
        raw.append(line)
        if line in (b"\r\n", b"\n"):
            return b"".join(raw), headers
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip().lower(), value.strip()))


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for k, v in reversed(headers):
        if k == name:
            return v
    return None


def _relay_body(src: _Conn, headers, dst: _Conn | None, limit: int | None = None,
                until_eof: bool = False) -> bool:
    """Copies a message body framed by Content-Length or chunked encoding (raw, as
    framed) from src to dst (None = discard). With `limit`, stops after that many
    body bytes and returns False. until_eof: close-delimited body."""
    sent = 0

    def out(data: bytes) -> bool:
        nonlocal sent
        if limit is not None and sent + len(data) > limit:
            if dst is not None:
                dst.send(data[: limit - sent])
            return False
        if dst is not None:
            dst.send(data)
        sent += len(data)
        return True

    te = (_header(headers, "transfer-encoding") or "").lower()
    if "chunked" in te:
        while True:
            size_line = src.readline()
            if not size_line:
                raise _Closed()
            if not out(size_line):
                return False
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:  # trailers up to the blank line
                while True:
                    line = src.readline()
                    if not line:
                        raise _Closed()
                    if not out(line):
                        return False
                    if line in (b"\r\n", b"\n"):
                        return True
            left = size + 2  # data and its CRLF
            while left:
                data = src.read_some(left)
                if not data:
                    raise _Closed()
                left -= len(data)
                if not out(data):
                    return False
    length = _header(headers, "content-length")
    left = int(length) if length is not None else None
    while until_eof if left is None else left > 0:
        data = src.read_some(CHUNK if left is None else left)
        if not data:
            if left is None:
                return True
            raise _Closed()
        if left is not None:
            left -= len(data)
        if not out(data):
            return False
    return True


def _hop_by_hop_fixed(raw_head: bytes, close: bool) -> bytes:
    """The response head without the upstream's Connection/Keep-Alive headers,
    plus "Connection: close" when the client connection is to end."""
    lines = raw_head.split(b"\r\n")
    kept = [ln for ln in lines[1:-2]
            if ln.split(b":", 1)[0].strip().lower() not in (b"connection", b"keep-alive")]
    if close:
        kept.append(b"Connection: close")
    return b"\r\n".join([lines[0], *kept, b"", b""])


def _response_has_body(method: str, status: int) -> bool:
    return method != "HEAD" and not (100 <= status < 200 or status in (204, 304))


def _error_xml(code: str, message: str, **extra: str) -> bytes:
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    rid = uuid.uuid4().hex[:16].upper()
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message>{fields}<RequestId>{rid}</RequestId>"
            f"<HostId>{uuid.uuid4().hex}</HostId></Error>").encode()


class S3Proxy:
    """with S3Proxy(s3.endpoint) as proxy: run the client against proxy.endpoint."""

    def __init__(self, upstream_endpoint: str):
        up = urlsplit(upstream_endpoint)
        self.upstream = (up.hostname, up.port or 80)
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._conns: set[_Conn] = set()
        self.reset_counts()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def __enter__(self) -> "S3Proxy":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        # shutdown() wakes the accept() and the blocked reads (close() alone does
        # not on Linux); each connection thread then closes its own sockets.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            c.shutdown()
        self._thread.join(timeout=5)

    # -- counters and faults -------------------------------------------------------

    def reset_counts(self) -> None:
        """Clears requests, connection and byte counters (pending faults stay)."""
        with self._lock:
            self.requests: list[Request] = []
            self.connections = 0  # client connections accepted (keep-alive checks)
            self.bytes_from_client = 0
            self.bytes_to_client = 0

    def inject(self, fault: str, times: int = 1, match: Match | None = None, *,
               region: str = "eu-west-1", body_bytes: int | None = None) -> None:
        """Queues `fault` for the next `times` requests for which
        match(method, path, query) is true (any request when match is None).

        "500" / "503": InternalError / SlowDown error responses, not forwarded.
        "region-redirect": 301 PermanentRedirect, x-amz-bucket-region: REGION.
        "region-400": 400 AuthorizationHeaderMalformed naming REGION in the body
            only (no x-amz-bucket-region header), as S3 answers a request signed
            for the wrong region.
        "drop": reads the whole request, then closes without answering.
        "drop-mid-body": forwards the request, relays the response headers and
            `body_bytes` of the body (default: half of it), then closes.

        Every pending fault's predicate is called for every request, in queue
        order, so counting predicates such as nth() see all requests; the first
        fault that matched is the one applied."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {FAULTS}")
        with self._lock:
            self._faults.append(_Fault(fault, times, match, region, body_bytes))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> list[tuple[str, int]]:
        with self._lock:
            return [(f.name, f.times) for f in self._faults]

    def _take_fault(self, method: str, path: str, query: str) -> _Fault | None:
        # Predicates run outside the lock: they may be slow or have side effects
        # (one may well read self.requests or change the bucket).
        with self._lock:
            pending = list(self._faults)
        hits = [f for f in pending if f.match is None or f.match(method, path, query)]
        with self._lock:
            for fault in hits:
                if fault in self._faults:  # not used up by a concurrent request
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _count(self, attr: str, n: int) -> None:
        with self._lock:
            setattr(self, attr, getattr(self, attr) + n)

    def _record(self, *args) -> None:
        with self._lock:
            self.requests.append(Request(*args))

    # -- serving -------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return  # listener closed by stop()
            self._count("connections", 1)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = _Conn(sock, lambda n: self._count("bytes_from_client", n),
                       lambda n: self._count("bytes_to_client", n))
        up: list[_Conn | None] = [None]  # the upstream connection, kept across requests
        self._track(client)
        try:
            while self._one_request(client, up):
                pass
        except (_Closed, OSError, ValueError):
            pass
        finally:
            self._close(client)
            self._close(up[0])

    def _track(self, conn: _Conn) -> _Conn:
        with self._lock:  # stop() shuts down every tracked connection
            self._conns.add(conn)
        return conn

    def _close(self, conn: _Conn | None) -> None:
        if conn is not None:
            conn.close()
            with self._lock:
                self._conns.discard(conn)

    def _one_request(self, client: _Conn, up: list) -> bool:
        """Handles one request; returns whether to keep the client connection.
        up[0] is the upstream connection (None: connect when needed)."""
        head = _read_head(client)
        if head is None:
            return False
        raw_head, headers = head
        method, target, version = raw_head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        path, _, query = target.partition("?")
        hdrs = dict(headers)
        client_close = (hdrs.get("connection", "").lower() == "close"
                        or version.strip() == "HTTP/1.0")
        if hdrs.get("expect", "").lower() == "100-continue":
            client.send(b"HTTP/1.1 100 Continue\r\n\r\n")

        fault = self._take_fault(method, path, query)
        if fault and fault.name != "drop-mid-body":
            _relay_body(client, headers, None)  # consume the request body
            if fault.name == "drop":
                self._record(method, path, query, hdrs, None, "drop")
                return False
            status, reason, extra, body = self._fault_response(fault, path, hdrs)
            self._record(method, path, query, hdrs, status, fault.name)
            if method == "HEAD":
                body = b""  # S3 sends no body for HEAD errors
            lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/xml",
                     f"Content-Length: {len(body)}", f"x-amz-request-id: {uuid.uuid4().hex[:16]}",
                     *(f"{k}: {v}" for k, v in extra.items())]
            if client_close:
                lines.append("Connection: close")
            client.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            return not client_close

        # Relay upstream; the upstream connection is reused only while it stays open.
        if up[0] is None:
            try:
                up[0] = self._track(_Conn(socket.create_connection(self.upstream, timeout=120)))
            except OSError:
                _relay_body(client, headers, None)
                self._record(method, path, query, hdrs, 502, None)
                client.send(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return not client_close
        upstream = up[0]
        upstream.send(raw_head)
        _relay_body(client, headers, upstream)
        while True:  # skip interim responses (the 100 was already sent by us)
            resp = _read_head(upstream)
            if resp is None:
                raise _Closed()
            raw_resp, resp_headers = resp
            status = int(raw_resp.split(b" ", 2)[1])
            if not 100 <= status < 200:
                break
        self._record(method, path, query, hdrs, status, fault.name if fault else None)
        upstream_close = (_header(resp_headers, "connection") or "").lower() == "close"
        has_body = _response_has_body(method, status)
        framed = (_header(resp_headers, "content-length") is not None
                  or "chunked" in (_header(resp_headers, "transfer-encoding") or "").lower())
        client.send(_hop_by_hop_fixed(raw_resp, client_close or (has_body and not framed)))
        if fault:  # drop-mid-body
            if has_body:
                limit = fault.body_bytes
                if limit is None:
                    limit = int(_header(resp_headers, "content-length") or 2) // 2
                _relay_body(upstream, resp_headers, client, limit=limit, until_eof=not framed)
            return False  # _serve closes both
        if has_body:
            _relay_body(upstream, resp_headers, client, until_eof=not framed)
        if has_body and not framed:
            return False  # the client saw no framing either: EOF ends it
        if upstream_close:
            self._close(upstream)
            up[0] = None
        return not client_close

    @staticmethod
    def _fault_response(fault: _Fault, path: str, hdrs: dict):
        region = fault.region
        if fault.name == "500":
            return 500, "Internal Server Error", {}, _error_xml(
                "InternalError", "We encountered an internal error. Please try again.")
        if fault.name == "503":
            return 503, "Slow Down", {}, _error_xml("SlowDown", "Please reduce your request rate.")
        bucket = path.lstrip("/").split("/", 1)[0]  # path-style addressing
        if fault.name == "region-redirect":
            return 301, "Moved Permanently", {"x-amz-bucket-region": region}, _error_xml(
                "PermanentRedirect",
                "The bucket you are attempting to access must be addressed using the "
                "specified endpoint. Please send all future requests to this endpoint.",
                Endpoint=f"s3.{region}.amazonaws.com", Bucket=bucket, Region=region)
        # region-400: S3 names the region the request was signed for.
        signed = Request("", "", "", hdrs, None).signing_region or "us-east-1"
        return 400, "Bad Request", {}, _error_xml(
            "AuthorizationHeaderMalformed",
            f"The authorization header is malformed; the region '{signed}' is wrong; "
            f"expecting '{region}'", Region=region)


@pytest.fixture
def s3_proxy(s3_server):
    """A fresh proxy in front of the session's moto server, per test. A test module
    using it must also import the s3_server fixture."""
    with S3Proxy(s3_server.endpoint) as proxy:
        yield proxy
