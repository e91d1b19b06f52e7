"""The two texts prepare-chat must reproduce from TypeScript: the orchestrator's prompt and the
ingestion's chunks. The fixtures are the TypeScript side's output; its tests check the same files
(k8s/orchestrator/test/chat-prompt.test.ts, test/models/chat-contract.test.ts)."""

import json
from pathlib import Path

import pytest

from backbone_models.chat_prompt import citations, render, source_count
from backbone_models.ingest_chunks import chunk_id, chunk_text, parse_document

FIXTURES = Path(__file__).parent / "fixtures"
PROMPTS = json.loads((FIXTURES / "chat-prompt.json").read_text(encoding="utf-8"))["cases"]
CHUNKS = json.loads((FIXTURES / "ingest-chunks.json").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", PROMPTS, ids=[c["name"] for c in PROMPTS])
def test_renders_the_orchestrators_prompt(case):
    rendered = render(case["messages"], case["hits"])
    assert rendered == case["expected"]
    assert source_count(rendered[0]["content"]) == len(case["hits"])


@pytest.mark.parametrize("case", CHUNKS, ids=[c["key"] for c in CHUNKS])
def test_rebuilds_the_ingestions_chunks(case):
    title, text = parse_document(case["key"], case["body"].encode("utf-8"))
    assert title == case["title"]
    assert [{"id": chunk_id(case["key"], n), "text": t} for n, t in enumerate(chunk_text(text))] == case["chunks"]


def test_documents_it_cannot_parse_are_named():
    with pytest.raises(ValueError, match=r"raw/a\.pdf.*'\.pdf'"):
        parse_document("raw/a.pdf", b"%PDF")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        parse_document("raw/a.txt", b"\xff\xfe")


def test_citations_are_read_in_order():
    assert citations("a [2] b [10][1] c [x]") == [2, 10, 1]
