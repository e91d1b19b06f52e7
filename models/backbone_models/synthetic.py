"""A small synthetic world for tests and benchmarks: documents under raw/ and orchestrator event
logs over them, deterministic from a seed. Each topic has documents and queries that share its
words, so a model can learn something from a few training steps."""

import json
import random
from pathlib import Path

SUBJECTS = (
    "password reset", "invoice export", "vpn access", "printer driver", "leave request", "expense claim",
    "laptop encryption", "wifi guest", "badge renewal", "parking permit", "payroll date", "travel booking",
    "phone voicemail", "shared drive", "calendar sharing", "email signature", "software licence", "desk booking",
    "security training", "backup restore", "meeting room", "visitor pass", "pension plan", "health insurance",
    "bike scheme", "remote work", "code review", "release notes", "incident report", "data retention",
    "access review", "firewall rule", "database quota", "cluster upgrade", "search index", "model training",
    "sales forecast", "contract renewal", "supplier onboarding", "tax form",
)
ASPECTS = ("steps", "policy", "deadline", "troubleshooting", "owner", "cost", "form", "approval")
FILLER = ("the", "team", "portal", "please", "note", "each", "month", "office", "system", "request", "support",
          "update", "page", "user", "service")


def _sentence(rng: random.Random, words: list[str], n: int) -> str:
    return " ".join(rng.choice(words) for _ in range(n))


def documents(seed: int = 0, per_topic: int = 3) -> dict[str, tuple[int, str]]:
    """docId -> (topic, text)."""
    rng = random.Random(seed)
    out = {}
    for t, subject in enumerate(SUBJECTS):
        for k in range(per_topic):
            aspect = ASPECTS[(t + k) % len(ASPECTS)]
            words = subject.split() + [aspect] + list(FILLER)
            text = f"{subject} {aspect}: " + _sentence(rng, words, 24)
            out[f"kb/{subject.replace(' ', '-')}/{aspect}.md"] = (t, text)
    return out


def queries(topic: int, rng: random.Random) -> str:
    subject = SUBJECTS[topic]
    template = rng.choice(("how do i {s}", "{s} {a}", "where is the {s} {a}", "{a} for {s}", "help with {s}"))
    return template.format(s=subject, a=rng.choice(ASPECTS))


def write_world(root: Path, seed: int = 0, sessions: int = 400, users: int = 25) -> tuple[Path, Path]:
    """raw/ (markdown files and one JSONL file) and logs/ (two daily JSONL files). Returns (raw, logs)."""
    rng = random.Random(seed)
    docs = documents(seed)
    raw, logs = root / "raw", root / "logs"
    by_topic: dict[int, list[str]] = {}
    jsonl_docs = []
    for i, (doc_id, (topic, text)) in enumerate(sorted(docs.items())):
        by_topic.setdefault(topic, []).append(doc_id)
        if i % 5 == 0:  # some documents arrive as JSONL records, the rest as files
            jsonl_docs.append({"docId": doc_id, "title": doc_id.split("/")[1], "text": text})
        else:
            path = raw / doc_id
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    (raw / "batch.jsonl").write_text("".join(json.dumps(d) + "\n" for d in jsonl_docs), encoding="utf-8")
    all_ids = sorted(docs)
    days = [[], []]
    ts = 1_760_000_000_000
    for s in range(sessions):
        topic = rng.randrange(len(SUBJECTS))
        user = f"u{rng.randrange(users)}"
        qid = f"q{s}"
        query = queries(topic, rng)
        shown = rng.sample(by_topic[topic], 2) + rng.sample([d for d in all_ids if docs[d][0] != topic], 3)
        rng.shuffle(shown)
        day = days[s % 2]
        for pos, doc in enumerate(shown):
            ts += 10
            day.append({"type": "expose", "ts": ts, "userId": user, "queryId": qid, "query": query, "docId": doc,
                        "position": pos, "channel": rng.choice(("search", "chat"))})
        if rng.random() < 0.85:
            ts += 1000
            hit = next(d for d in shown if docs[d][0] == topic)
            kind = rng.choice(("click", "citation_open"))
            day.append({"type": kind, "ts": ts, "userId": user, "queryId": qid, "docId": hit})
    logs.mkdir(parents=True, exist_ok=True)
    for d, events in enumerate(days):
        (logs / f"2026-11-{d + 1:02d}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return raw, logs


def corpus(seed: int = 0) -> list[str]:
    """Texts to train a WordPiece vocabulary on: every document and a few queries per topic."""
    rng = random.Random(seed)
    texts = [text for _, text in documents(seed).values()]
    texts += [queries(t, rng) for t in range(len(SUBJECTS)) for _ in range(5)]
    return texts * 3
