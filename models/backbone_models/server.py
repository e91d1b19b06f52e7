"""Start and stop a real TorchServe on loopback, for tests and the benchmark.

Every instance gets its own ports, its own worker-socket range (sockets are /tmp/.ts.sock.<port>,
and a new worker deletes an existing socket at its path) and its own TMPDIR (which holds the pid
file), so it cannot disturb another TorchServe on the machine. `torchserve --start` returns 0 even
when the server dies, and /ping says Healthy while workers crash-loop, so readiness is a READY
worker for every model, polled on the management API with a timeout.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .serving_config import render


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_worker_port(models: int) -> int:
    for _ in range(100):
        port = free_port()
        if port + models < 65535 and not any(Path(f"/tmp/.ts.sock.{port + i}").exists() for i in range(models)):
            return port
    raise RuntimeError("found no free range of worker ports")


def missing_prerequisites() -> list[str]:
    missing = []
    if not (Path(sys.executable).parent / "torchserve").exists():
        missing.append("torchserve (run scripts/setup.sh)")
    java = shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin") if os.environ.get("JAVA_HOME") else None)
    if not java:
        missing.append("java (TorchServe 0.12 needs a JDK 17)")
    return missing


class TorchServe:
    def __init__(self, model_store: Path, models: dict[str, str], workdir: Path, workers_per_model: int = 1,
                 env: dict[str, str] | None = None, ports: dict[str, int] | None = None,
                 enable_model_api: bool = False):
        """`models` maps a model name to its .mar file name in `model_store`. `ports` fixes some of the
        ports (inference, management, metrics, grpc, grpc_mgmt); the others are picked free.
        `enable_model_api` lets the management API register new versions (the local stack's loop)."""
        self.models, self.workdir = models, workdir
        self.ports = {k: (ports or {}).get(k) or free_port()
                      for k in ("inference", "management", "metrics", "grpc", "grpc_mgmt")}
        self.inference = f"http://127.0.0.1:{self.ports['inference']}"
        self.management = f"http://127.0.0.1:{self.ports['management']}"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "tmp").mkdir(exist_ok=True)
        self.config = workdir / "config.properties"
        self.config.write_text(render(
            inference_address=self.inference, management_address=self.management,
            metrics_address=f"http://127.0.0.1:{self.ports['metrics']}",
            grpc_ports=(self.ports["grpc"], self.ports["grpc_mgmt"]), model_store=str(model_store),
            load_models=tuple(models.values()), initial_worker_port=free_worker_port(len(models) * workers_per_model),
            workers_per_model=workers_per_model, enable_model_api=enable_model_api,
        ), encoding="utf-8")
        self.model_store = model_store
        self.proc: subprocess.Popen | None = None
        self.env = {**os.environ, "TMPDIR": str(workdir / "tmp"), "LOG_LOCATION": str(workdir / "logs"),
                    "METRICS_LOCATION": str(workdir / "logs"), **(env or {})}

    def start(self, timeout_s: float = 240) -> float:
        started = time.monotonic()
        cmd = [str(Path(sys.executable).parent / "torchserve"), "--start", "--foreground", "--ncs",
               "--ts-config", str(self.config), "--model-store", str(self.model_store)]
        out = open(self.workdir / "torchserve.out", "w")
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        while time.monotonic() - started < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"TorchServe exited with {self.proc.returncode}:\n{self.log_tail()}")
            if all(self.ready(name) for name in self.models):
                return time.monotonic() - started
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"TorchServe had no READY worker for every model after {timeout_s} s:\n{self.log_tail()}")

    def ready(self, name: str) -> bool:
        try:
            with urllib.request.urlopen(f"{self.management}/models/{name}", timeout=2) as r:
                return any(w.get("status") == "READY" for w in json.load(r)[0].get("workers", []))
        except (OSError, ValueError, IndexError):
            return False

    def log_tail(self, lines: int = 40) -> str:
        chunks = []
        for path in [self.workdir / "torchserve.out", *sorted((self.workdir / "logs").glob("*.log"))]:
            if path.exists():
                chunks.append(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(chunks)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # SIGTERM to the session we started: the launcher, the Java frontend and its Python workers
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
