"""smpack-harness serve and batch against the real serving stack: every response is
compared with what the sagemaker-inference Transformer and the PyTorch container's default
handler (serving_oracle.py, in .venv-serving with Debian's torch) answer for the same model
and request: the bytes for JSON, CSV and NPY, and the status for every error."""

import base64
import http.client
import io
import json
import os
import re
import shutil
import signal
import subprocess
import textwrap
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BUILD_DIR = Path(os.environ.get("SMPACK_BUILD_DIR", "build"))
SOURCE_DIR = Path(os.environ.get("SMPACK_SOURCE_DIR", "."))
HARNESS = BUILD_DIR / "tools" / "harness" / "smpack-harness"
SMPACK = os.environ.get("SMPACK_BIN", str(BUILD_DIR / "tools" / "smpack" / "smpack"))
TORCH_PYTHON = "/usr/bin/python3"
SERVING_PYTHON = SOURCE_DIR / ".venv-serving" / "bin" / "python"
ORACLE = Path(__file__).with_name("serving_oracle.py")

pytestmark = pytest.mark.skipif(not HARNESS.exists(), reason=f"smpack-harness not built at {HARNESS}")

MODELS = textwrap.dedent(
    """
    import sys, torch, torch.nn as nn
    out = sys.argv[1]
    torch.manual_seed(0)

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        def forward(self, x):
            return self.body(x)

    class Cnn(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.fc = nn.Linear(2 * 6 * 6, 2)
        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).flatten(1))

    class Scorer(nn.Module):  # one value per row, so a batch of rows answers row by row
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 1)
        def forward(self, x):
            return self.fc(x)

    class Scale(nn.Module):  # a preprocessing stage
        def forward(self, x):
            return x * 2.0 + 1.0

    class Argmax(nn.Module):  # integer predictions
        def forward(self, x):
            return x.argmax(-1)

    class Same(nn.Module):  # any shape and dtype, as decoded
        def forward(self, x):
            return x * 1

    import os
    for name, module in [("mlp", Mlp()), ("cnn", Cnn()), ("scorer", Scorer()),
                         ("scale", Scale()), ("argmax", Argmax()), ("same", Same())]:
        os.makedirs(f"{out}/{name}")
        torch.jit.save(torch.jit.script(module.eval()), f"{out}/{name}/model.pt")
    """)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{name: (model folder, archive)}; the oracle reads the folder, serve the archive."""
    root = tmp_path_factory.mktemp("serving-models")
    script = root / "make_models.py"  # a file: torch.jit.script reads the class sources
    script.write_text(MODELS)
    subprocess.run([TORCH_PYTHON, str(script), str(root)], check=True)
    made = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        archive = root / f"{folder.name}.tar.gz"
        subprocess.run([SMPACK, "build", str(folder), "-o", str(archive), "--no-lint"], check=True,
                       capture_output=True)
        made[folder.name] = (folder, archive)
    return made


def oracle(model_dir, requests):
    """What the toolkit answers to each (body, content type, accept), in one process."""
    job = {"model_dir": str(model_dir),
           "requests": [{"body": base64.b64encode(body).decode(), "content_type": content_type,
                         "accept": accept} for body, content_type, accept in requests]}
    result = subprocess.run([str(SERVING_PYTHON), str(ORACLE)], input=json.dumps(job), text=True,
                            capture_output=True, timeout=300,
                            env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 0, result.stderr
    return [(a["status"], a["content_type"], base64.b64decode(a["body"]))
            for a in json.loads(result.stdout)]


class Server:
    def __init__(self, archive, *args, tmp_path):
        self.log = tmp_path / f"access-{os.getpid()}-{id(self)}.log"
        self.process = subprocess.Popen(
            [str(HARNESS), "serve", str(archive), "--port", "0", "--device", "cpu",
             "--access-log", str(self.log), *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"listening on (http://[\d.]+:\d+)", line)
        assert match, line + self.process.stderr.read()
        self.url = match.group(1)
        for _ in range(600):
            if self.get("/ping")[0] == 200:
                break
            threading.Event().wait(0.05)
        else:
            raise AssertionError("no 200 from /ping: " + self.stop()[1])

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except urllib.error.URLError:
            return None, b""

    def invoke(self, body, content_type, accept):
        """POST /invocations with exactly these headers (urllib would add a Content-Type)."""
        host, port = self.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {"Content-Type": content_type, "Accept": accept}
        connection.request("POST", "/invocations", body=body,
                           headers={k: v for k, v in headers.items() if v is not None})
        response = connection.getresponse()
        answer = response.status, response.getheader("Content-Type"), response.read()
        connection.close()
        return answer

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=60)
        return self.process.returncode, stderr


@pytest.fixture
def serve(tmp_path):
    servers = []

    def start(archive, *args):
        servers.append(Server(archive, *args, tmp_path=tmp_path))
        return servers[-1]

    yield start
    for server in servers:
        if server.process.poll() is None:
            code, stderr = server.stop()
            assert code == 0, stderr
            assert "stopped" in stderr


def npy(array):
    import numpy as np
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
ACCEPTS = [JSON, CSV, NPY, None, "*/*", "text/csv, application/json", "application/x-npy,text/csv"]


def mlp_requests():
    import numpy as np
    rng = np.random.default_rng(7)
    bodies = [
        (b"[[0.1, 0.2, 0.3, 0.4]]", JSON),
        (b"[[1, 2, 3, 4], [5, 6, 7, 8]]", JSON),  # ints: an int64 array first
        (b" [0.5, -1.5, 2.25, 1e-7] ", JSON),  # 1-D: a 1-D prediction
        (b"[[true, false, 1, 2.5], [NaN, Infinity, -Infinity, 0]]", JSON),
        (json.dumps(rng.normal(size=(5, 4)).tolist()).encode(), JSON),
        (b"0.1,0.2,0.3,0.4\n", CSV),
        (b"1,2,3,4\n5,6,7,8\n", CSV),
        (b"# a comment\n\n 0.5 , 1.5,2.5,3.5 # trailing\r\n\n-1e3,2_0.5,inf,nan\n", CSV),
        (b"1,,3,4\n5,6,7,8\n", CSV),  # a missing int is -1
        (b"True,False,True,True\n", CSV),
        (npy(rng.normal(size=(3, 4)).astype("float32")), NPY),
        (npy(np.asfortranarray(rng.normal(size=(3, 4)).astype("float32"))), NPY),
    ]
    return [(body, content_type, accept) for body, content_type in bodies for accept in ACCEPTS]


ERRORS = [
    (b"[[1, 2, 3, 4]]", "text/plain", JSON),  # no decoder
    (b"[[1, 2, 3, 4]]", None, JSON),
    (b"[[1, 2, 3, 4]]", "application/json; charset=utf-8", JSON),  # matched exactly
    (b"[[1, 2, 3, 4]]", JSON, "text/html"),  # no encoder
    (b"[[1, 2, 3, 4]]", JSON, "application/json;q=0.9"),
    (b"[[1, 2, 3, 4], [1]]", JSON, JSON),  # ragged
    (b'{"x": [1, 2, 3, 4]}', JSON, JSON),
    (b'["1", "2", "3", "4"]', JSON, JSON),
    (b"[[1, 2, 3, 4]", JSON, JSON),  # not JSON
    (b"[[1, 2, 3]]", JSON, JSON),  # the model refuses the shape
    (b"1,2.5,3,4\n", CSV, JSON),  # int and float columns: a structured array
    (b"1,2,3,4\n5,6,7\n", CSV, JSON),  # a short row
    (b"1,a,3,4\n", CSV, JSON),
    (b"1,2,3,4\n", CSV, CSV + "x"),
    (b"PK\x03\x04 not really", "application/x-npz", JSON),
    (b"\x93NUMPY\x01\x00garbage", NPY, JSON),
]


def test_responses_equal_the_toolkits(models, serve):
    folder, archive = models["mlp"]
    requests = mlp_requests()
    expected = oracle(folder, requests)
    server = serve(archive)
    for request, want in zip(requests, expected):
        got = server.invoke(*request)
        assert want[0] == 200, (request, want)
        assert got == want, request


def test_npy_responses_hold_float64_and_int64(models, serve):
    import numpy as np
    requests = [(b"[[0.1, 0.9, 0.3], [2, 1, 0]]", JSON, accept) for accept in (JSON, CSV, NPY)]
    folder, archive = models["argmax"]
    expected = oracle(folder, requests)
    server = serve(archive)
    answers = [server.invoke(*request) for request in requests]
    assert answers == expected
    assert answers[0][2] == b"[1, 0]" and answers[1][2] == b"1\n0\n"
    assert np.load(io.BytesIO(answers[2][2])).dtype == np.int64
    mlp_folder, mlp_archive = models["mlp"]
    floats = serve(mlp_archive).invoke(b"[[1, 2, 3, 4]]", JSON, NPY)
    assert np.load(io.BytesIO(floats[2])).dtype == np.float64


def test_a_cnn_answers_alike(models, serve):
    import numpy as np
    images = np.random.default_rng(3).normal(size=(2, 1, 8, 8)).astype("float32")
    requests = [(npy(images), NPY, JSON), (json.dumps(images.tolist()).encode(), JSON, CSV),
                (npy(images), NPY, NPY)]
    folder, archive = models["cnn"]
    expected = oracle(folder, requests)
    server = serve(archive)
    assert [server.invoke(*request) for request in requests] == expected


def test_errors_have_the_toolkits_status(models, serve):
    import numpy as np
    folder, archive = models["mlp"]
    errors = ERRORS + [(npy(np.ones((1, 4), dtype=np.int64)), NPY, JSON),  # Linear on Long
                       (npy(np.ones((1, 4), dtype=">f4")), NPY, JSON),  # not native order
                       (npy(np.ones((1, 4))), NPY, JSON)]  # float64 stays float64: Linear refuses
    expected = oracle(folder, errors)
    server = serve(archive)
    for request, want in zip(errors, expected):
        got = server.invoke(*request)
        assert want[0] == 500, (request, want)
        assert got[0] == want[0], (request, got, want)
        if b"is not supported by this framework" in want[2]:
            # UnsupportedFormatError: the same message (the toolkit adds a traceback).
            assert want[2].decode().startswith(got[2].decode()), (got, want)


def npy_with_header(header, data=b"", version=b"\x01\x00"):
    """An .npy whose header dict is written by hand: what np.save never writes."""
    text = header.encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    return b"\x93NUMPY" + version + (len(text) + pad + 1).to_bytes(2, "little") + text + \
        b" " * pad + b"\n" + data


FOUR_FLOATS = bytes(16)


def edge_requests():
    """Bodies a decoder reading like numpy (and not like a JSON or CSV library) must answer
    as the toolkit does, through a model that returns what it is given."""
    import numpy as np
    ok = [
        (b"[9223372036854775808, 1, 2, 3]", JSON, JSON),  # uint64 meets int64: float64
        (b"[[true, 18446744073709551615, 1.5, 3]]", JSON, JSON),
        (b"1,2,3,4\n\x1f,2,3,\x1c\n", CSV, JSON),  # str.isspace: missing values
        (npy(np.zeros((0, 4), "<f4")), NPY, NPY),  # tolist() loses the empty dimensions
        (npy(np.zeros((0, 4), "<f4")), NPY, JSON),
        (npy(np.zeros((2, 0, 4), "<f4")), NPY, NPY),
        (npy(np.zeros((2, 0, 4), "<f4")), NPY, CSV),
        (npy(np.zeros((3, 0), "<i8")), NPY, NPY),  # ... and their dtype
        (npy(np.zeros((3, 4), "|u1")), NPY, NPY),
        (npy_with_header("{'descr': '>u1', 'fortran_order': False, 'shape': (4,), }", bytes(4)), NPY, JSON),
        (npy_with_header("{'descr': 'f4', 'fortran_order': False, 'shape': (4,), }", FOUR_FLOATS), NPY, JSON),
        (npy_with_header("{'descr': '<f', 'fortran_order': False, 'shape': (4,), }", FOUR_FLOATS), NPY, JSON),
        (npy_with_header("{'descr': 'float32', 'fortran_order': True, 'shape': (2, 2), }", FOUR_FLOATS), NPY, JSON),
    ]
    refused = [
        (b"True\n5\n", CSV, JSON),  # True fails int: the column starts over as text
        (b"1,True\n2,5\n", CSV, JSON),
        (b"True,True,True,True\n1,2,3,4\n", CSV, JSON),
        (b"True\n1.5\n", CSV, JSON),
        (b"[9223372036854775808, true]", JSON, JSON),  # uint64 alone
        (b"1,2,3,4 #\xff\xfe\n", CSV, JSON),  # not UTF-8
        (npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", FOUR_FLOATS,
                         version=b"\x01\x01"), NPY, JSON),
        (npy_with_header("{'descr': '<f4', 'shape': (4,), }", FOUR_FLOATS), NPY, JSON),
        (npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1, }",
                         FOUR_FLOATS), NPY, JSON),
        (npy_with_header("{'descr': '<f4', 'fortran_order': 0, 'shape': (4,), }", FOUR_FLOATS), NPY, JSON),
        (npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': [4], }", FOUR_FLOATS), NPY, JSON),
        (npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), } x", FOUR_FLOATS), NPY, JSON),
        (npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % ("1, " * 33), bytes(4)),
         NPY, JSON),
        (npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 9223372036854775807), }"),
         NPY, JSON),
        (npy_with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", FOUR_FLOATS), NPY, JSON),
    ]
    return ok, refused


def test_edge_cases_match_the_toolkit(models, serve):
    ok, refused = edge_requests()
    folder, archive = models["same"]
    expected = oracle(folder, ok + refused)
    server = serve(archive)
    for request, want in zip(ok, expected):
        assert want[0] == 200, (request, want)
        assert server.invoke(*request) == want, request
    for request, want in zip(refused, expected[len(ok):]):
        assert want[0] == 500, (request, want)
        assert server.invoke(*request)[0] == 500, request
    assert server.get("/ping")[0] == 200


def test_object_arrays_are_refused_not_unpickled(models, serve, tmp_path):
    """np.load(allow_pickle=True) in the toolkit's NPY decoder runs the body's pickle."""
    marker = tmp_path / "unpickled"
    make = textwrap.dedent(
        f"""
        import io, sys, numpy as np
        class Opens:
            def __reduce__(self):
                return (open, ({str(marker)!r}, "w"))
        buffer = io.BytesIO()
        np.save(buffer, np.array([Opens()], dtype=object), allow_pickle=True)
        sys.stdout.buffer.write(buffer.getvalue())
        """)
    body = subprocess.run([str(SERVING_PYTHON), "-c", make], check=True, capture_output=True).stdout
    folder, archive = models["mlp"]
    got = serve(archive).invoke(body, NPY, JSON)
    assert got[0] == 400 and b"object array" in got[2], got
    assert not marker.exists()
    oracle(folder, [(body, NPY, JSON)])
    assert marker.exists()  # the real endpoint ran the caller's code


def test_payload_limit_is_413_and_configurable(models, serve):
    _, archive = models["mlp"]
    body = b"[" + b", ".join([b"[0.1, 0.2, 0.3, 0.4]"] * 100_000) + b"]"  # 2.2 MB
    assert len(body) < 6 << 20
    assert serve(archive).invoke(body, JSON, JSON)[0] == 200
    small = serve(archive, "--max-payload-mb", "1")
    assert small.invoke(body, JSON, JSON)[0] == 413
    assert small.invoke(b"[[1, 2, 3, 4]]", JSON, JSON)[0] == 200


def test_concurrent_requests_share_one_model(models, serve):
    import numpy as np
    _, archive = models["mlp"]
    server = serve(archive, "--threads", "8")
    rng = np.random.default_rng(11)
    bodies = [json.dumps(rng.normal(size=(4, 4)).tolist()).encode() for _ in range(16)]
    alone = [server.invoke(body, JSON, JSON) for body in bodies]
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(lambda i: server.invoke(bodies[i % 16], JSON, JSON), range(128)))
    assert together == [alone[i % 16] for i in range(128)]
    assert server.process.stderr is not None
    loaded = server.stop()[1]
    assert loaded.count("loaded model.pt") == 1


def test_load_with_hey(models, serve, tmp_path):
    """A real load client, bounded in requests and time, on loopback."""
    _, archive = models["mlp"]
    server = serve(archive, "--threads", "4")
    result = subprocess.run(
        ["hey", "-n", "800", "-c", "16", "-t", "20", "-m", "POST", "-T", JSON,
         "-d", "[[0.1, 0.2, 0.3, 0.4]]", server.url + "/invocations"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(r"\[200\]\s+800 responses", result.stdout), result.stdout
    assert "Error distribution" not in result.stdout
    code, _ = server.stop()
    assert code == 0
    lines = server.log.read_text().splitlines()
    invocations = [line for line in lines if '"POST /invocations" 200' in line]
    assert len(invocations) == 800
    assert all(re.search(r" \d+\.\d{3}ms$", line) for line in invocations)


def test_ping_and_shutdown(models, serve):
    _, archive = models["mlp"]
    server = serve(archive)
    assert server.get("/ping") == (200, b"")
    assert server.get("/nothing")[0] == 404
    code, stderr = server.stop()
    assert code == 0 and "stopped" in stderr


def test_custom_handlers_are_refused(tmp_path):
    folder = tmp_path / "custom"
    (folder / "code").mkdir(parents=True)
    (folder / "model.pt").write_bytes(b"unused")
    (folder / "code" / "inference.py").write_text(
        "def model_fn(model_dir):\n    return None\n\ndef input_fn(body, content_type):\n"
        "    return body\n")
    result = subprocess.run([str(HARNESS), "batch", str(folder), "--input", str(folder / "model.pt"),
                             "--output", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    assert "code/inference.py defines model_fn, input_fn" in result.stderr
    assert "smpack invoke" in result.stderr


def run_batch(archive, *args):
    return subprocess.run([str(HARNESS), "batch", str(archive), "--device", "cpu", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_batch_json_lines_single_record(models, tmp_path):
    folder, archive = models["mlp"]
    records = [b"[0.1, 0.2, 0.3, 0.4]", b"[[1, 2, 3, 4], [5, 6, 7, 8]]", b"[-1, -2, -3, -4]"]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "records.jsonl").write_bytes(b"\n".join(records[:2]) + b"\n\n" + records[2] + b"\n")
    result = run_batch(archive, "--input", tmp_path / "in", "--output", tmp_path / "out",
                       "--content-type", JSON, "--accept", JSON, "--split-type", "Line",
                       "--batch-strategy", "SingleRecord", "--assemble-with", "Line")
    assert result.returncode == 0, result.stderr
    assert "3 record(s), 3 request(s), 0 failed" in result.stdout
    expected = oracle(folder, [(record, JSON, JSON) for record in records])
    assert (tmp_path / "out" / "records.jsonl.out").read_bytes() == \
        b"".join(body + b"\n" for _, _, body in expected)


def test_batch_csv_single_and_multi_record(models, tmp_path):
    import numpy as np
    folder, archive = models["scorer"]
    rows = np.random.default_rng(5).normal(size=(40, 4))
    lines = [",".join(repr(float(v)) for v in row).encode() for row in rows]
    (tmp_path / "rows.csv").write_bytes(b"\n".join(lines) + b"\n")
    expected = oracle(folder, [(line, CSV, CSV) for line in lines])
    per_row = b"".join(body for _, _, body in expected)
    for strategy, payload_mb in [("SingleRecord", "6"), ("MultiRecord", "6"), ("MultiRecord", "0.0005")]:
        out = tmp_path / f"out-{strategy}-{payload_mb}"
        result = run_batch(archive, "--input", tmp_path / "rows.csv", "--output", out,
                           "--content-type", CSV, "--accept", CSV, "--split-type", "Line",
                           "--batch-strategy", strategy, "--max-payload-mb", payload_mb)
        assert result.returncode == 0, result.stderr
        requests = int(re.search(r"(\d+) request\(s\)", result.stdout).group(1))
        assert requests == {"SingleRecord": 40, "6": 1}.get(strategy if strategy == "SingleRecord" else payload_mb, requests)
        if payload_mb == "0.0005":
            assert 1 < requests < 40  # several mini-batches of whole rows
        produced = (out / "rows.csv.out").read_bytes()
        assert np.allclose(np.loadtxt(io.BytesIO(produced)), np.loadtxt(io.BytesIO(per_row)),
                           rtol=1e-6, atol=1e-6)
        if strategy == "SingleRecord":
            assert produced == per_row


def test_batch_reports_a_failed_record_and_goes_on(models, tmp_path):
    folder, archive = models["scorer"]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_bytes(b"1,2,3,4\n1,2,3\n5,6,7,8\n")
    (tmp_path / "in" / "b.csv").write_bytes(b"0.5,0.5,0.5,0.5\n")
    result = run_batch(archive, "--input", tmp_path / "in", "--output", tmp_path / "out",
                       "--content-type", CSV, "--accept", JSON, "--split-type", "Line",
                       "--batch-strategy", "SingleRecord", "--assemble-with", "Line")
    assert result.returncode == 1, result.stderr
    assert re.search(r"a\.csv:2: 500: ", result.stderr), result.stderr
    expected = oracle(folder, [(b"1,2,3,4", CSV, JSON), (b"5,6,7,8", CSV, JSON),
                               (b"0.5,0.5,0.5,0.5", CSV, JSON)])
    assert (tmp_path / "out" / "a.csv.out").read_bytes() == expected[0][2] + b"\n" + expected[1][2] + b"\n"
    assert (tmp_path / "out" / "b.csv.out").read_bytes() == expected[2][2] + b"\n"


def test_pipeline_chains_the_stages(models, serve, tmp_path):
    scale_folder, scale_archive = models["scale"]
    mlp_folder, mlp_archive = models["mlp"]
    requests = [(b"[[0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4]]", JSON, accept) for accept in (JSON, CSV, NPY)]
    requests.append((b"0.1,0.2,0.3,0.4\n", CSV, JSON))
    first = oracle(scale_folder, [(body, content_type, None) for body, content_type, _ in requests])
    second = oracle(mlp_folder, [(body, content_type, request[2])
                                 for (_, content_type, body), request in zip(first, requests)])
    server = serve(scale_archive, "--pipeline", mlp_archive)
    assert [server.invoke(*request) for request in requests] == second
    # A stage's error ends the chain with its status.
    failed = server.invoke(b"[[1, 2, 3]]", JSON, JSON)
    assert failed[0] == 500 and failed[2].startswith(b"stage 2: ")
    (tmp_path / "in.jsonl").write_bytes(requests[0][0] + b"\n")
    result = run_batch(scale_archive, "--pipeline", mlp_archive, "--input", tmp_path / "in.jsonl",
                       "--output", tmp_path / "out", "--content-type", JSON, "--accept", JSON,
                       "--split-type", "Line")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "in.jsonl.out").read_bytes() == second[0][2]


def test_signals_during_the_load_end_the_server(tmp_path):
    """A load that does not finish (here a FIFO nobody writes): SIGTERM stops the listener
    and cancels the load; a second one ends the process, exit 130."""
    fifo = tmp_path / "model.tar.gz"
    os.mkfifo(fifo)
    process = subprocess.Popen([str(HARNESS), "serve", str(fifo), "--port", "0", "--device", "cpu"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "listening on" in process.stdout.readline()
    threading.Event().wait(0.5)
    process.send_signal(signal.SIGTERM)
    threading.Event().wait(0.5)
    assert process.poll() is None  # still blocked in the read
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 130


def test_batch_refuses_an_output_inside_its_input(models, tmp_path):
    _, archive = models["scorer"]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_bytes(b"1,2,3,4\n")
    result = run_batch(archive, "--input", tmp_path / "in", "--output", tmp_path / "in" / "out",
                       "--content-type", CSV)
    assert result.returncode == 2, result.stderr
    assert "inside the input folder" in result.stderr
    assert not (tmp_path / "in" / "out").exists()
