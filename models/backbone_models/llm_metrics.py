"""Figures of a chat model's held-out answers: citation-format adherence and exact match, with
Wilson 95 % intervals (pure; llm.py generates the answers)."""

import math
import re

from .chat_prompt import citations, source_count


def cites_existing_sources(answer: str, sources: int) -> bool:
    """The answer cites at least one [n], and every [n] it cites is a source of its prompt (1..sources)."""
    cited = citations(answer)
    return bool(cited) and all(1 <= n <= sources for n in cited)


def normalise_answer(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval of a proportion; None without observations."""
    if n == 0:
        return None
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def proportion(hits: int, n: int) -> dict:
    interval = wilson(hits, n)
    return {"value": hits / n if n else None, "hits": hits, "n": n, "ci95": list(interval) if interval else None}


def answer_figures(rows: list[dict], generated: list[str]) -> dict:
    """rows: SFT rows ({messages: [system, ..., assistant]}); generated: the model's answer to each
    row's prompt. The references' own citation adherence is the bound beside the model's."""
    if len(rows) != len(generated):
        raise ValueError(f"{len(generated)} generated answers for {len(rows)} rows; expected one per row")
    sources = [source_count(r["messages"][0]["content"]) for r in rows]
    references = [r["messages"][-1]["content"] for r in rows]
    return {
        "citation_adherence": proportion(sum(map(cites_existing_sources, generated, sources)), len(rows)),
        "citation_adherence_of_references": proportion(sum(map(cites_existing_sources, references, sources)),
                                                       len(rows)),
        "exact_match": proportion(sum(normalise_answer(g) == normalise_answer(r)
                                      for g, r in zip(generated, references, strict=True)), len(rows)),
    }
