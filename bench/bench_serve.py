#!/usr/bin/env python3
"""The same TorchScript models (an MLP and a small CNN) served three ways, loaded with
`hey` at concurrency 1, 4 and 16 on loopback, in one run:
  - `smpack-harness serve`;
  - the toolkit's Python path: sagemaker-inference's Transformer with the PyTorch default
    handler behind a Python ThreadingHTTPServer (bench/python_endpoint.py, .venv-serving);
  - TorchServe 0.12 (.venv-torchserve, Debian's OpenJDK 17) started as the PyTorch DLC
    starts it: the model folder as the default model, sagemaker_pytorch_serving_container's
    handler service as the handler, token auth off.
Records throughput and p50/p99 latency (medians of --repeat runs), the cold start from
spawn to the first 200 of /invocations, the CPU the server used, and the load average;
raw results in bench/out/serve.json, `--report` prints the table for RESULTS.md.

    .venv/bin/python bench/bench_serve.py [--seconds 8] [--repeat 3] [--only smpack,python]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HARNESS = ROOT / "build" / "tools" / "harness" / "smpack-harness"
SMPACK = ROOT / "build" / "tools" / "smpack" / "smpack"
SERVING_PYTHON = ROOT / ".venv-serving" / "bin" / "python"
TORCHSERVE = ROOT / ".venv-torchserve" / "bin" / "torchserve"

MODELS = textwrap.dedent(
    """
    import json, os, sys, torch, torch.nn as nn
    out = sys.argv[1]
    torch.manual_seed(0)

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256),
                                      nn.ReLU(), nn.Linear(256, 10))
        def forward(self, x):
            return self.body(x)

    class Cnn(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
                                          nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                                          nn.ReLU(), nn.MaxPool2d(2))
            self.fc = nn.Linear(32 * 8 * 8, 10)
        def forward(self, x):
            return self.fc(self.features(x).flatten(1))

    for name, module, shape in [("mlp", Mlp(), (1, 64)), ("cnn", Cnn(), (1, 3, 32, 32))]:
        os.makedirs(f"{out}/{name}/model")
        torch.jit.save(torch.jit.script(module.eval()), f"{out}/{name}/model/model.pt")
        with open(f"{out}/{name}/body.json", "w") as body:
            json.dump(torch.randn(*shape).tolist(), body)
    """)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_200(url: str, body: bytes, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see its log")
        try:
            request = urllib.request.Request(url, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("no 200 from " + url)


def start_smpack(model: Path, work: Path, port: int) -> tuple[list[str], dict]:
    archive = work / "model.tar.gz"
    if not archive.exists():
        subprocess.run([str(SMPACK), "build", str(model), "-o", str(archive), "--no-lint"],
                       check=True, capture_output=True)
    return [str(HARNESS), "serve", str(archive), "--port", str(port), "--device", "cpu",
            "--threads", "16", "--access-log", "-"], {}


def start_python(model: Path, work: Path, port: int) -> tuple[list[str], dict]:
    return [str(SERVING_PYTHON), str(HERE / "python_endpoint.py"), str(model), str(port)], {}


def start_torchserve(model: Path, work: Path, port: int) -> tuple[list[str], dict]:
    store = work / "ts-store"
    store.mkdir(exist_ok=True)
    config = work / "ts.properties"
    config.write_text(textwrap.dedent(f"""\
        inference_address=http://127.0.0.1:{port}
        management_address=http://127.0.0.1:{free_port()}
        metrics_address=http://127.0.0.1:{free_port()}
        default_service_handler=sagemaker_pytorch_serving_container.handler_service:handle
        default_workers_per_model={os.cpu_count()}
        decode_input_request=false
        disable_token_authorization=true
        enable_envvars_config=true
        """))
    return [str(TORCHSERVE), "--start", "--foreground", "--ncs", "--disable-token-auth",
            "--model-store", str(store), "--ts-config", str(config), "--models",
            f"model={model}"], {"TS_DISABLE_SYSTEM_METRICS": "true"}


SERVERS = {"smpack": start_smpack, "python": start_python, "torchserve": start_torchserve}


def hey(url: str, body: Path, concurrency: int, seconds: int) -> dict:
    done = subprocess.run(["hey", "-z", f"{seconds}s", "-c", str(concurrency), "-m", "POST",
                           "-T", "application/json", "-D", str(body), url],
                          capture_output=True, text=True, check=True, timeout=seconds + 60)
    text = done.stdout
    if "Latency distribution" not in text:
        raise RuntimeError("hey measured no latencies:\n" + text + done.stderr)
    ok = re.search(r"\[200\]\s+(\d+) responses", text)
    failed = sum(int(n) for code, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", text) if code != "200")
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            "p50_ms": 1000 * float(re.search(r"50%+ in ([\d.]+) secs", text).group(1)),
            # hey leaves out a percentile it has too few responses for: the slowest then.
            "p99_ms": 1000 * float((re.search(r"99%+ in ([\d.]+) secs", text)
                                    or re.search(r"Slowest:\s+([\d.]+) secs", text)).group(1)),
            "ok": int(ok.group(1)) if ok else 0, "failed": failed}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far (TorchServe's workers)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids += [int(c) for c in children]
        except OSError:
            continue
    return total


def run_server(name: str, model_root: Path, work: Path, args) -> dict:
    port = free_port()
    argv, env = SERVERS[name](model_root / "model", work, port)
    url = f"http://127.0.0.1:{port}/invocations"
    body = model_root / "body.json"
    start = time.perf_counter()
    log = open(work / "server.log", "w")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "CUDA_VISIBLE_DEVICES": "", **env},
                               start_new_session=True)
    try:
        first_200(url, body.read_bytes(), process)
        result = {"cold_start_s": time.perf_counter() - start, "levels": {}}
        for concurrency in (1, 4, 16):
            runs = []
            for _ in range(args.repeat):
                cpu_before = cpu_seconds(process.pid)
                load = os.getloadavg()[0]
                run = hey(url, body, concurrency, args.seconds)
                run["server_cpu_s_per_1k"] = 1000 * (cpu_seconds(process.pid) - cpu_before) / max(1, run["ok"])
                run["load"] = load
                runs.append(run)
            level = {key: statistics.median(r[key] for r in runs)
                     for key in ("rps", "p50_ms", "p99_ms", "server_cpu_s_per_1k")}
            level["failed"] = sum(r["failed"] for r in runs)
            level["load"] = [min(r["load"] for r in runs), max(r["load"] for r in runs)]
            result["levels"][str(concurrency)] = level
        return result
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the server's whole session (TorchServe's JVM and workers too), and wait
    until none of it is left: a JVM still exiting keeps the next TorchServe from starting."""
    def signal_group(number: int) -> bool:
        try:
            os.killpg(process.pid, number)
            return True
        except ProcessLookupError:
            return False

    signal_group(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while signal_group(0) and time.monotonic() < deadline:
        process.poll()
        time.sleep(0.1)
    if signal_group(signal.SIGKILL):
        time.sleep(0.5)
    process.wait()


def report(results: dict) -> str:
    lines = ["| model | server | cold start to first 200 | c | req/s | p50 ms | p99 ms | server CPU s / 1k req |",
             "|---|---|---|---|---|---|---|---|"]
    for model, servers in results["models"].items():
        for server, row in servers.items():
            for concurrency, level in row["levels"].items():
                lines.append(f"| {model} | {server} | {row['cold_start_s']:.2f} s | {concurrency} | "
                             f"{level['rps']:.0f} | {level['p50_ms']:.2f} | {level['p99_ms']:.2f} | "
                             f"{level['server_cpu_s_per_1k']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(SERVERS))
    parser.add_argument("--report", action="store_true", help="print the last results' table")
    args = parser.parse_args()
    out = HERE / "out" / "serve.json"
    if args.report:
        print(report(json.loads(out.read_text())))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        script = root / "make_models.py"  # a file: torch.jit.script reads the class sources
        script.write_text(MODELS)
        subprocess.run(["/usr/bin/python3", str(script), str(root)], check=True)
        results = {"machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()},
                   "seconds": args.seconds, "repeat": args.repeat, "models": {}}
        for model in ("mlp", "cnn"):
            results["models"][model] = {}
            for name in args.only.split(","):
                work = root / model / name
                work.mkdir(parents=True)
                results["models"][model][name] = run_server(name, root / model, work, args)
                print(model, name, json.dumps(results["models"][model][name]), flush=True)
        results["machine"]["load_after"] = os.getloadavg()
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(report(results))


if __name__ == "__main__":
    main()
