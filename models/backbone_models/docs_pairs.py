"""Training and evaluation pairs derived from a folder of documents, without any user data.

Each document is cut into sections at its headings (reStructuredText underlines, Markdown `#`
lines). A section's heading is a query and the section's text is its positive passage, the same
shape as a user's short query and the passage that answers it. A heading that more than one
document uses ("Examples", "Notes") is qualified with its document's title, so every query names
one section. Negatives for the reranker: another section of the same document (hard: same
subject, other content) and sections of other documents, drawn with a seeded generator.

Everything here is pure and deterministic: the same folder gives the same pairs and the same split.
"""

import hashlib
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

DOC_SUFFIXES = (".txt", ".md", ".rst")
UNDERLINE = re.compile(r"^([=\-~^*#+\"'`:._])\1{2,}\s*$")
ROLE = re.compile(r":[a-zA-Z:]+:`~?!?([^`<]*?)(?:\s*<[^>]*>)?`")
LINK = re.compile(r"`([^`<]+?)\s*(?:<[^>]*>)?`_{1,2}")
MIN_PASSAGE_CHARS = 80


@dataclass(frozen=True)
class Section:
    doc_id: str
    heading: str
    text: str


@dataclass(frozen=True)
class Pair:
    query: str
    doc_id: str
    passage: str


def read_docs(folder: Path) -> dict[str, str]:
    """docId (path relative to `folder`) -> text, for every *.txt, *.md and *.rst file, sorted."""
    if not folder.is_dir():
        raise FileNotFoundError(f"--docs is {str(folder)!r}, which is not a folder")
    docs = {str(p.relative_to(folder)): p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name.endswith(DOC_SUFFIXES)}
    if not docs:
        raise ValueError(f"--docs {folder} holds no {', '.join(DOC_SUFFIXES)} files")
    return docs


def docs_hash(docs: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for doc_id in sorted(docs):
        digest.update(doc_id.encode() + b"\0" + docs[doc_id].encode("utf-8", "replace") + b"\0")
    return digest.hexdigest()


def clean(text: str) -> str:
    """reStructuredText markup to plain words: roles, links, literals, emphasis, directives."""
    lines = []
    in_directive = False
    for line in text.splitlines():
        if line.startswith(".. "):
            in_directive = True  # a directive and its indented options say nothing a user asks about
            continue
        if in_directive and (line.startswith((" ", "\t")) and line.strip().startswith(":")):
            continue
        in_directive = False
        lines.append(line)
    text = "\n".join(lines)
    text = ROLE.sub(lambda m: m.group(1).strip(), text)
    text = LINK.sub(lambda m: m.group(1).strip(), text)
    text = re.sub(r"``([^`]+)``", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"(?m)^[ \t]*(?:[=\-~^*#+:._|]{3,}[ \t]*)+$", " ", text)  # transitions and table rules
    return re.sub(r"\s+", " ", text).strip()


def split_sections(doc_id: str, text: str) -> list[Section]:
    """Sections at each heading: an rST title with its underline, or a Markdown `#` line."""
    lines = text.splitlines()
    starts: list[tuple[int, int, str]] = []  # (first body line, heading line, heading)
    for i, line in enumerate(lines):
        if line.startswith("#") and re.match(r"^#{1,6}\s+\S", line):
            starts.append((i + 1, i, line.lstrip("#").strip()))
        elif 0 < i and UNDERLINE.match(line) and lines[i - 1].strip() and not UNDERLINE.match(lines[i - 1]):
            title = lines[i - 1].rstrip()
            if len(line.rstrip()) >= len(title.strip()) and not title.startswith((" ", "\t")):
                starts.append((i + 1, i - 1, title.strip()))
    sections = []
    for n, (body, _, heading) in enumerate(starts):
        end = starts[n + 1][1] if n + 1 < len(starts) else len(lines)
        passage = clean("\n".join(lines[body:end]))
        heading = clean(heading)
        if heading and len(passage) >= MIN_PASSAGE_CHARS:
            sections.append(Section(doc_id, heading, passage))
    return sections


def doc_title(sections: list[Section]) -> str:
    """The short name of a document: its first heading up to a dash (`argparse --- Parser ...`)."""
    return re.split(r"\s+(?:---|--|—|-)\s+", sections[0].heading)[0] if sections else ""


def pairs_from_docs(docs: dict[str, str], max_passage_chars: int = 1200) -> list[Pair]:
    """One (query, passage) pair per section, queries unique (repeats of one query are dropped)."""
    by_doc = {doc_id: split_sections(doc_id, text) for doc_id, text in sorted(docs.items())}
    used_by = Counter(h for sections in by_doc.values() for h in {s.heading.lower() for s in sections})
    pairs, seen = [], set()
    for doc_id, sections in by_doc.items():
        title = doc_title(sections)
        for s in sections:
            query = s.heading if used_by[s.heading.lower()] == 1 or s.heading == sections[0].heading else f"{title}: {s.heading}"
            if query.lower() in seen:
                continue
            seen.add(query.lower())
            pairs.append(Pair(query, doc_id, s.text[:max_passage_chars]))
    return pairs


def is_held_out(doc_id: str, eval_percent: float, seed: str) -> bool:
    """Stable split by document: a hash of the seed and the docId, so reruns and machines agree."""
    bucket = int(hashlib.sha256(f"{seed}:{doc_id}".encode()).hexdigest()[:8], 16) % 10000
    return bucket < eval_percent * 100


def split_by_document(pairs: list[Pair], eval_percent: float, seed: str) -> tuple[list[Pair], list[Pair]]:
    if not 0 <= eval_percent < 100:
        raise ValueError(f"eval_percent is {eval_percent}; expected 0 <= eval_percent < 100")
    train = [p for p in pairs if not is_held_out(p.doc_id, eval_percent, seed)]
    held = [p for p in pairs if is_held_out(p.doc_id, eval_percent, seed)]
    return train, held


def rerank_rows(pairs: list[Pair], negatives: int = 3, seed: int = 0) -> list[dict]:
    """(query, document, label) rows: each pair's passage as 1, then `negatives` passages as 0,
    the first from the same document where it has another section, the rest from other documents."""
    if negatives < 1:
        raise ValueError(f"negatives is {negatives}; expected at least 1")
    rng = random.Random(seed)
    by_doc: dict[str, list[Pair]] = {}
    for p in pairs:
        by_doc.setdefault(p.doc_id, []).append(p)
    rows = []
    for p in pairs:
        rows.append({"query": p.query, "document": p.passage, "label": 1})
        same = [o for o in by_doc[p.doc_id] if o.passage != p.passage]
        picked = [rng.choice(same)] if same else []
        for _ in range(50 * negatives):  # draws from other documents; a bound, not a loop forever
            if len(picked) >= negatives:
                break
            other = pairs[rng.randrange(len(pairs))]
            if other.doc_id != p.doc_id:
                picked.append(other)
        rows.extend({"query": p.query, "document": o.passage, "label": 0} for o in picked)
    return rows


def training_rows(pairs: list[Pair], steps: int, batch_size: int, negatives: int, seed: int) -> list[dict]:
    """About steps x batch_size reranker rows: a seeded sample of the pairs, each with its negatives."""
    wanted = max(1, steps * batch_size // (1 + negatives))
    sample = random.Random(seed).sample(pairs, min(wanted, len(pairs)))
    return rerank_rows(sample, negatives, seed)
