"""The orchestrator's chat prompt, rendered from chat_prompt.json: a system turn holding the
instructions and the numbered sources, then the conversation's own turns (at most the last 12,
the question included). The template is data so that both languages test against one text."""

import json
import re
from functools import cache
from pathlib import Path

TEMPLATE_FILE = Path(__file__).with_name("chat_prompt.json")
CITATION = re.compile(r"\[(\d+)\]")


@cache
def template() -> dict:
    return json.loads(TEMPLATE_FILE.read_text(encoding="utf-8"))


def _fill(text: str, values: dict[str, str]) -> str:
    """Placeholders are replaced in the template only: a source's text that contains "{title}" stays as is."""
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], text)


def render(messages: list[dict], sources: list[dict]) -> list[dict]:
    """buildPrompt(messages, hits): `sources` are {title, content} in prompt order, numbered from 1."""
    t = template()
    blocks = [_fill(t["source"], {"n": str(i), "title": s["title"], "content": s["content"]})
              for i, s in enumerate(sources, start=1)]
    system = {"role": "system", "content": _fill(t["system"], {"sources": t["sourceSeparator"].join(blocks)
                                                                 or t["noSources"]})}
    turns = [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"]
    return [system, *turns[-t["maxTurns"]:]]


def source_count(system_content: str) -> int:
    """How many numbered sources a rendered system turn holds (0 for "(none found)")."""
    t = template()
    head = t["system"].split("{sources}")[0]
    body = system_content[len(head):] if system_content.startswith(head) else system_content
    found = 0
    for block in body.split(t["sourceSeparator"]):  # a source's own blank lines only add blocks to skip
        if block.startswith(f"[{found + 1}] "):
            found += 1
    return found


def citations(answer: str) -> list[int]:
    """The source numbers an answer cites, in order of appearance."""
    return [int(n) for n in CITATION.findall(answer)]
