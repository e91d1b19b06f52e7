"""The chat-log line the orchestrator writes (tests/fixtures/chat-turn.json, checked on the TypeScript side by
k8s/orchestrator/test/chat-log.test.ts) is one prepare-chat reads, field for field."""

import json
from pathlib import Path

from backbone_models.chat_prepare import validate_turn

LINE = json.loads((Path(__file__).parent / "fixtures" / "chat-turn.json").read_text(encoding="utf-8"))["line"]


def test_prepare_chat_reads_the_orchestrators_line():
    turn = validate_turn(dict(LINE), "fixture")
    for key in ("queryId", "principalId", "question", "retrievalQuery", "conversation", "context", "citedChunkIds",
                "answer", "answerMode", "model"):
        assert turn[key] == LINE[key], key
