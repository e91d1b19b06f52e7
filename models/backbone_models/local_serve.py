"""TorchServe for the local stack (`npm start`): serves the archives of a model store on loopback
until SIGTERM or SIGINT, then stops TorchServe's whole process group.

    python -m backbone_models.local_serve --model-store <dir> --models embed=embed.mar,rerank=rerank.mar \
        --workdir <dir> [--inference-port N] [--management-port N] [--metrics-port N]

Once every model has a READY worker it prints one line, `serving {"inference": <url>, "management": <url>}`,
which the caller waits for. Fixed ports keep the URLs, and so the OpenSearch connectors that name
them, the same from one start to the next.
"""

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from .server import TorchServe, missing_prerequisites


def parse_models(spec: str) -> dict[str, str]:
    models = {}
    for part in spec.split(","):
        name, sep, mar = part.partition("=")
        if not sep or not name or not mar.endswith(".mar"):
            raise ValueError(f"--models: {part!r} is not <name>=<file>.mar")
        models[name] = mar
    return models


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m backbone_models.local_serve", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-store", type=Path, required=True)
    p.add_argument("--models", required=True, help="name=file.mar pairs, comma-separated")
    p.add_argument("--workdir", type=Path, required=True)
    for name in ("inference", "management", "metrics"):
        p.add_argument(f"--{name}-port", type=int, default=0)
    p.add_argument("--timeout", type=float, default=300)
    a = p.parse_args(argv)
    try:
        models = parse_models(a.models)
    except ValueError as err:
        p.error(str(err))
    for mar in models.values():
        if not (a.model_store / mar).is_file():
            p.error(f"--model-store: {a.model_store / mar} does not exist")
    missing = missing_prerequisites()
    if missing:
        print(f"local_serve: missing {', '.join(missing)}", file=sys.stderr)
        return 2

    server = TorchServe(a.model_store.resolve(), models, a.workdir.resolve(),
                        ports={"inference": a.inference_port, "management": a.management_port,
                               "metrics": a.metrics_port},
                        # `npm run loop` registers retrained versions; the management API is on loopback only
                        enable_model_api=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        seconds = server.start(timeout_s=a.timeout)
        print(f"local_serve: {', '.join(models)} READY in {seconds:.1f} s", file=sys.stderr, flush=True)
        print("serving " + json.dumps({"inference": server.inference, "management": server.management}), flush=True)
        while not stop.wait(1):
            if server.proc is not None and server.proc.poll() is not None:
                print(f"local_serve: TorchServe exited with {server.proc.returncode}:\n{server.log_tail()}",
                      file=sys.stderr, flush=True)
                return 1
        return 0
    except (RuntimeError, TimeoutError) as err:
        print(f"local_serve: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
