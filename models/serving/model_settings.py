"""The settings file a saved model carries (`backbone-serving.json`): what it is, its dimension,
its name once packaged. Written by training and `package`, read by `package`, `evaluate` and the
handlers. Standard library only: this file ships inside every .mar beside the handler."""

import json
from pathlib import Path

SETTINGS_FILE = "backbone-serving.json"


def read_settings(model_dir) -> dict:
    with open(Path(model_dir) / SETTINGS_FILE, encoding="utf-8") as f:
        return json.load(f)


def write_settings(model_dir, settings: dict) -> Path:
    path = Path(model_dir) / SETTINGS_FILE
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return path
