"""The public evaluation corpus of the retrieval-quality benchmark: Debian's package descriptions.

Each package's one-line synopsis is a query; its long description is the one relevant document.
The descriptions come from the archive's `Translation-en` index (the `Description-en` field: the
synopsis, then the long description as indented lines, ` .` for a blank line), which apt downloads
(`Acquire::Languages=en`; `apt-cache dumpavail` itself carries only the synopsis). Selection and
split are pure and seeded, so two runs over the same archive snapshot pick the same packages.
"""

import hashlib
import re
from dataclasses import dataclass

from .docs_pairs import is_held_out

MIN_LONG_CHARS = 80  # shorter long descriptions ("This package is a transitional package") say nothing


@dataclass(frozen=True)
class Package:
    name: str  # the doc id: the document is <name>.txt
    synopsis: str  # the query
    long: str  # the relevant document


def parse_translations(text: str) -> dict[str, tuple[str, str]]:
    """{package: (synopsis, long description)} from a Translation-en (or Packages) index; the first
    stanza of a package wins (indices list a package once per description)."""
    out: dict[str, tuple[str, str]] = {}
    for stanza in re.split(r"\n\s*\n", text):
        name, desc, collecting = None, [], False
        for line in stanza.split("\n"):
            if line.startswith("Package:"):
                name, collecting = line.split(":", 1)[1].strip(), False
            elif re.match(r"Description(-en)?:", line):
                desc, collecting = [line.split(":", 1)[1].strip()], True
            elif collecting and line.startswith(" "):
                desc.append("" if line.strip() == "." else line[1:].rstrip())
            else:
                collecting = False
        if name and desc and name not in out:
            long = re.sub(r"\n{3,}", "\n\n", "\n".join(desc[1:])).strip()
            out[name] = (desc[0], long)
    return out


def normal(text: str) -> str:
    return " ".join(text.lower().split())


def name_hash(name: str, seed: str) -> str:
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()


def select(entries: dict[str, tuple[str, str]], count: int, seed: str) -> list[Package]:
    """`count` packages in the order of a seeded hash of their names. A synopsis or long description
    that more than one package has is dropped for all of them (the query would have several right
    answers); so are long descriptions under MIN_LONG_CHARS."""
    if count < 1:
        raise ValueError(f"--packages is {count!r}; expected a positive integer")
    synopses = {}
    longs = {}
    for synopsis, long in entries.values():
        synopses[normal(synopsis)] = synopses.get(normal(synopsis), 0) + 1
        longs[normal(long)] = longs.get(normal(long), 0) + 1
    usable = [Package(name, synopsis, long) for name, (synopsis, long) in entries.items()
              if len(long) >= MIN_LONG_CHARS and synopses[normal(synopsis)] == 1 and longs[normal(long)] == 1]
    if len(usable) < count:
        raise ValueError(f"--packages is {count}; the index has only {len(usable)} usable packages")
    return sorted(usable, key=lambda p: name_hash(p.name, seed))[:count]


def corpus_hash(packages: list[Package]) -> str:
    """sha256 over the selected packages, in name order: equal hashes mean equal corpora."""
    digest = hashlib.sha256()
    for p in sorted(packages, key=lambda p: p.name):
        digest.update(f"{p.name}\0{p.synopsis}\0{p.long}\0".encode())
    return digest.hexdigest()


def split(packages: list[Package], eval_percent: float, seed: str) -> tuple[list[Package], list[Package]]:
    """(train, held out) by a hash of the doc id (the package name), as models/ splits documents."""
    train = [p for p in packages if not is_held_out(p.name, eval_percent, seed)]
    held = [p for p in packages if is_held_out(p.name, eval_percent, seed)]
    return train, held


def queries(held: list[Package], max_queries: int | None, seed: str) -> list[Package]:
    """The evaluated held-out queries: all, or the first `max_queries` in seeded-hash order."""
    ordered = sorted(held, key=lambda p: name_hash(p.name, f"{seed}:queries"))
    return ordered if max_queries is None else ordered[:max_queries]


def embed_rows(train: list[Package]) -> list[dict]:
    """The embedder's (query, positive) rows; MultipleNegativesRankingLoss takes the batch's other
    positives as negatives."""
    return [{"query": p.synopsis, "positive": p.long} for p in train]


def rerank_rows(train: list[Package], lexical: list[list[int]], count: int, hard: int, easy: int,
                seed: int) -> list[dict]:
    """(query, document, label) rows for `count` seeded training packages: the long description as 1,
    `hard` descriptions drawn from the query's lexical top list (`lexical[i]`: indices into `train`,
    best first; its own excluded) and `easy` drawn at random, as 0. Only training packages appear."""
    import random

    rng = random.Random(seed)
    picked = rng.sample(range(len(train)), min(count, len(train)))
    rows = []
    for i in picked:
        p = train[i]
        rows.append({"query": p.synopsis, "document": p.long, "label": 1})
        near = [j for j in lexical[i] if j != i]
        negatives = rng.sample(near, min(hard, len(near)))
        while len(negatives) < hard + easy and len(train) > len(negatives) + 1:
            j = rng.randrange(len(train))
            if j != i and j not in negatives:
                negatives.append(j)
        rows.extend({"query": p.synopsis, "document": train[j].long, "label": 0} for j in negatives)
    return rows
