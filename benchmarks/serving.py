"""Serving figures under load: the yardstick, the inference service and the web's classify path.

Starts each server on a free loopback port, loads it with wrk at 1, 4, 16 and 64
connections posting 640x480 JPEGs made from real photos, and prints a table and JSON:
requests/s, latency p50/p95/p99, errors (non-200 answers and socket errors), the server's
CPU (its whole process tree: cores kept busy, ms per request) and peak RSS. The servers:

- ``yardstick``: ``benchmarks/yardstick_server.py``, FastAPI + onnxruntime as most users
  would write it (2 uvicorn workers, 1 onnxruntime thread each, no batching);
- ``service``: ``mirada inference --workers 2``, raw JPEG bodies;
- ``web``: ``mirada serve`` (SQLite, fresh data folder), a signed-in user posting
  ``POST /classify`` as the page's script does (multipart, session cookie, CSRF header,
  ``Accept: application/json``); every photo kept in the history;
- ``web_via_service``: the same web app with ``MIRADA_INFERENCE_URL`` set to the service.

The yardstick runs the fp32 model; Mirada's servers run what Mirada runs by default, the
int8 copy next to it (``--mirada-model`` for another file, e.g. the fp32 one). A server
that cannot run yet is skipped with its reason. Times are never asserted.

    MIRADA_MODEL_PATH=model.onnx PYTHONPATH=.:src python benchmarks/serving.py \\
        [--duration 10] [--warmup 3] [--connections 1 4 16 64] [--only web ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from skimage import data
from tests.support.server import free_port, mirada_command, run_mirada, server_env, terminate

TARGETS = ("yardstick", "service", "web", "web_via_service")
# The same five photos are posted again and again: the prediction caches would answer them
# without the model. The figures are of the model's path, so the caches are off.
NO_CACHE = {"MIRADA_PREDICTION_CACHE_SIZE": "0", "MIRADA_REDIS_URL": ""}
BOUNDARY = "----miradabenchmark7MA4YWxkTrZu0gW"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
LUA = """
local paths = {PATHS}
local bodies = {}
for i, path in ipairs(paths) do
  local f = assert(io.open(path, "rb")); bodies[i] = f:read("*a"); f:close()
end
local headers = {HEADERS}
local sent = 0
local threads = {}
bad = 0
first_bad = ""
function setup(thread) table.insert(threads, thread) end
function request()
  sent = sent + 1
  return wrk.format("POST", {PATH}, headers, bodies[sent % #bodies + 1])
end
function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body, 1, 300) end
  end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    local first = t:get("first_bad")
    if first ~= "" then io.stderr:write("first bad answer: ", first, "\\n") end
  end
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "bad_status": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, b, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def photos() -> list[bytes]:
    """Five real photos cropped to 4:3, resized to 640x480, JPEG quality 90."""
    arrays = [data.chelsea(), data.coffee(), data.astronaut(), data.rocket()]
    arrays.append(data.stereo_motorcycle()[0])
    jpegs = []
    for array in arrays:
        img = Image.fromarray(np.ascontiguousarray(array)).convert("RGB")
        scale = max(640 / img.width, 480 / img.height)
        img = img.resize(
            (round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC
        )
        left, top = (img.width - 640) // 2, (img.height - 480) // 2
        buffer = io.BytesIO()
        img.crop((left, top, left + 640, top + 480)).save(buffer, "JPEG", quality=90)
        jpegs.append(buffer.getvalue())
    return jpegs


def multipart(fields: dict[str, str], name: str, filename: str, jpeg: bytes) -> bytes:
    """A browser-like ``multipart/form-data`` body: the fields, then one JPEG file part."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        + jpeg
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


@dataclass
class Target:
    """A running server and the request wrk sends it (one body per photo, in turn)."""

    port: int
    pid: int
    path: str
    bodies: list[bytes]
    headers: dict[str, str] = field(default_factory=dict)


class TreeMeter:
    """CPU seconds and peak RSS of a process and all its descendants, read from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _tree(self) -> list[int]:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = _read(f"/proc/{entry}/stat")
                if stat:
                    parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree, frontier = [self.pid], [self.pid]
        while frontier:
            frontier = [pid for pid, parent in parents.items() if parent in frontier]
            tree += frontier
        return tree

    def cpu_seconds(self) -> float:
        """User + system time of the live tree and of the children it has reaped."""
        total = 0
        for pid in self._tree():
            fields = _read(f"/proc/{pid}/stat").rsplit(")", 1)[-1].split()
            if len(fields) > 14:
                total += sum(int(value) for value in fields[11:15])
        return total / TICKS

    def _rss(self) -> int:
        pages = (_read(f"/proc/{pid}/statm").split()[1:2] for pid in self._tree())
        return sum(int(page[0]) for page in pages if page) * PAGE_SIZE

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            self.peak_rss = max(self.peak_rss, self._rss())

    def __enter__(self) -> TreeMeter:
        self.peak_rss = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def lua_script(target: Target, folder: Path) -> Path:
    """A wrk script posting ``target``'s bodies in turn and counting non-200 answers."""
    paths = []
    for number, body in enumerate(target.bodies):
        paths.append(folder / f"body-{target.port}-{number}.bin")
        paths[-1].write_bytes(body)
    headers = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in target.headers.items())
    script = folder / f"post-{target.port}.lua"
    script.write_text(
        LUA.replace("{PATHS}", "{" + ", ".join(json.dumps(str(p)) for p in paths) + "}")
        .replace("{HEADERS}", "{" + headers + "}")
        .replace("{PATH}", json.dumps(target.path))
    )
    return script


def wrk(target: Target, script: Path, connections: int, seconds: float) -> dict[str, float]:
    """One wrk run against ``target``: its figures, with the server tree's CPU and RSS."""
    command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}"]
    command += [f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script)]
    command.append(f"http://127.0.0.1:{target.port}")
    with TreeMeter(target.pid) as meter:
        cpu_before = meter.cpu_seconds()
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        cpu = meter.cpu_seconds() - cpu_before
    found = re.search(r"WRKJSON (\{.*\})", run.stdout)
    if found is None or ".lua:" in run.stderr:
        raise RuntimeError(f"wrk gave no figures:\n{command}\n{run.stdout}\n{run.stderr}")
    raw = json.loads(found.group(1))
    return {
        "connections": connections,
        "requests": raw["requests"],
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["bad_status"] + raw["socket_errors"],
        "first_error": run.stderr.strip()[:300],
        "server_cpu_s": round(cpu, 2),
        # Cores kept busy: under 2 workers' worth at 16 connections, the load did not spread
        # over the server's processes (one took every connection), and its figure says so.
        "server_cores": round(cpu / (raw["duration_us"] / 1e6), 2),
        "cpu_ms_per_request": round(cpu * 1000 / max(1, raw["requests"]), 1),
        "peak_rss_mb": round(meter.peak_rss / 2**20, 1),
    }


def wait_ready(port: int, path: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``GET path`` answers 200 (a RuntimeError with the log if the server dies)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server on {port} did not come up:\n{log.read_text(errors='replace')}")


@contextmanager
def started(
    command: list[str], env: dict[str, str], ready: str, log: Path
) -> Iterator[tuple[int, int]]:
    """``command`` (given the port as ``{port}``) running until the block ends: its port
    and pid (the server's parent process: the commands exec or fork, never wrap)."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [part.replace("{port}", str(port)) for part in command],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(port, ready, process, log)
        yield port, process.pid
    finally:
        terminate(process)


@dataclass
class Servers:
    """Where servers put their logs and data, and what they all read."""

    folder: Path
    model: str  # the yardstick's: fp32
    mirada_model: str  # the service's and the web's (--mirada-model: e.g. the int8 file)
    jpegs: list[bytes]
    stack: ExitStack

    def _start(
        self, name: str, command: list[str], env: dict[str, str], ready: str
    ) -> tuple[int, int]:
        return self.stack.enter_context(started(command, env, ready, self.folder / f"{name}.log"))

    def yardstick(self) -> Target:
        env = {**os.environ, "YARDSTICK_MODEL": self.model}
        command = [sys.executable, "-m", "uvicorn", "yardstick_server:app", "--workers", "2"]
        command += ["--app-dir", str(Path(__file__).parent), "--port", "{port}"]
        command += ["--log-level", "warning", "--no-access-log"]
        port, pid = self._start("yardstick", command, env, "/docs")
        bodies = [multipart({}, "file", f"photo{n}.jpg", j) for n, j in enumerate(self.jpegs)]
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        return Target(port, pid, "/predict", bodies, headers)

    def service(self) -> Target:
        env = {**os.environ, "MIRADA_MODEL_PATH": self.mirada_model, **NO_CACHE}
        command = mirada_command("inference", "--host", "127.0.0.1", "--port", "{port}")
        port, pid = self._start("service", [*command, "--workers", "2"], env, "/readyz")
        headers = {"Content-Type": "image/jpeg"}
        return Target(port, pid, "/v1/models/imagenet/predict?top_k=5", self.jpegs, headers)

    def web(self, name: str = "web", **extra: str) -> Target:
        data_dir = self.folder / name
        env = server_env(data_dir, f"sqlite:///{data_dir / 'mirada.sqlite3'}", **NO_CACHE, **extra)
        env["MIRADA_MODEL_PATH"] = self.mirada_model
        run_mirada(env, "db", "upgrade")
        command = mirada_command("serve", "--host", "127.0.0.1", "--port", "{port}")
        port, pid = self._start(name, command, env, "/healthz")
        cookies, token = signed_in(port)
        fields = {"csrf_token": token, "model": "imagenet"}
        bodies = [multipart(fields, "photos", f"photo{n}.jpg", j) for n, j in enumerate(self.jpegs)]
        headers = {
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Accept": "application/json",
            "X-CSRFToken": token,
            "Cookie": cookies,
        }
        return Target(port, pid, "/classify", bodies, headers)

    def web_via_service(self, service: Target) -> Target:
        url = f"http://127.0.0.1:{service.port}"
        return self.web("web_via_service", MIRADA_INFERENCE_URL=url)


class Skipped(Exception):
    """A server this run cannot start, and why."""


def signed_in(port: int) -> tuple[str, str]:
    """Sign up a new user through the real form; the session's Cookie header and CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"

    def token(path: str) -> str:
        page = opener.open(base + path, timeout=30).read().decode()
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    form = {
        "csrf_token": token("/auth/register"),
        "email": "bench@example.com",
        "display_name": "Bench",
        "password": "a long enough password 42",
        "confirm": "a long enough password 42",
    }
    opener.open(base + "/auth/register", urllib.parse.urlencode(form).encode(), timeout=30)
    classify_token = token("/classify")
    return "; ".join(f"{c.name}={c.value}" for c in jar), classify_token


def settle(pid: int, timeout: float = 30.0) -> None:
    """Until the server tree is idle (what a run left queued is answered), at most ``timeout``."""
    meter = TreeMeter(pid)
    deadline = time.monotonic() + timeout
    before = meter.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = meter.cpu_seconds()
        if now - before < 0.05:
            return
        before = now


def measure(target: Target, folder: Path, args: argparse.Namespace) -> list[dict[str, float]]:
    """A warm-up at 4 connections (every worker loads its model), then one wrk run per
    connection count, each once the server is idle again."""
    script = lua_script(target, folder)
    wrk(target, script, 4, args.warmup)
    points = []
    for connections in args.connections:
        settle(target.pid)
        points.append(wrk(target, script, connections, args.duration))
    return points


Results = dict[str, dict[str, Any]]


def point(results: Results, name: str, connections: int) -> dict[str, float] | None:
    points = results.get(name, {}).get("points", [])
    return next((p for p in points if p["connections"] == connections), None)


def ratios(results: Results) -> dict[str, float | None]:
    """The issue's floors, as measured: rps ratios at 16 connections, p50 at 1."""
    figures: dict[str, float | None] = {}
    base16, base1 = point(results, "yardstick", 16), point(results, "yardstick", 1)
    for name in ("service", "web", "web_via_service"):
        at16, at1 = point(results, name, 16), point(results, name, 1)
        if base16 and at16:
            figures[f"{name}_over_yardstick_rps_at_16"] = round(at16["rps"] / base16["rps"], 2)
        if base1 and at1:
            figures[f"{name}_minus_yardstick_p50_ms_at_1"] = round(
                at1["p50_ms"] - base1["p50_ms"], 2
            )
            figures[f"{name}_over_yardstick_p50_at_1"] = round(at1["p50_ms"] / base1["p50_ms"], 2)
    return figures


def table(results: Results) -> str:
    columns = ["connections", "rps", "p50_ms", "p95_ms", "p99_ms", "errors"]
    columns += ["server_cores", "cpu_ms_per_request", "peak_rss_mb"]
    lines = [f"{'server':<16}" + "".join(f"{c:>19}" for c in columns)]
    for name, result in results.items():
        if "skipped" in result:
            lines.append(f"{name:<16} skipped: {result['skipped']}")
        for row in result.get("points", []):
            lines.append(f"{name:<16}" + "".join(f"{row[c]:>19}" for c in columns))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per point")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before the points")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--only", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--json", type=Path, help="also write the JSON document here")
    parser.add_argument(
        "--mirada-model",
        type=Path,
        help="the model Mirada's servers run (default: the int8 copy next to the yardstick's "
        "fp32 MIRADA_MODEL_PATH, what Mirada runs by default; the fp32 file itself to compare "
        "like with like)",
    )
    args = parser.parse_args()
    model = Path(os.environ.get("MIRADA_MODEL_PATH", "instance/models/efficientnet-lite0.onnx"))
    default = model.with_name(f"{model.stem}-int8{model.suffix}")
    if args.mirada_model is None and not default.is_file():
        parser.error(f"no {default}: make it with `make model-int8`, or give --mirada-model")
    mirada_model = str((args.mirada_model or default).resolve())
    results: Results = {}
    with tempfile.TemporaryDirectory() as temp, ExitStack() as stack:
        servers = Servers(Path(temp), str(model.resolve()), mirada_model, photos(), stack)
        service: Target | None = None
        for name in TARGETS:
            if name not in args.only and not (name == "service" and "web_via_service" in args.only):
                continue
            try:
                if name == "web_via_service":
                    if service is None:
                        raise Skipped("no inference service to point at")
                    target = servers.web_via_service(service)
                else:
                    target = getattr(servers, name)()
            except Skipped as reason:
                results[name] = {"skipped": str(reason)}
                continue
            if name == "service":
                service = target
            if name in args.only:
                results[name] = {"points": measure(target, Path(temp), args)}
    document = {
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "models": {"yardstick": str(model), "mirada": mirada_model},
        "duration_s": args.duration,
        "results": results,
        "ratios": ratios(results),
    }
    if args.json:
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(table(results))
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
