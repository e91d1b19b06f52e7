"""The ingestion's chunks of a raw document, in Python, so `prepare-chat` can put back the texts the
orchestrator put in its prompt: chat transcripts name chunks by id only.

A port of k8s/backbone/src/ingest/parse.ts (plain text and Markdown) and chunk.ts. JavaScript's
regular expressions and string lengths differ from Python's (whitespace set, line terminators,
UTF-16 code units), so those are spelled out here; tests/fixtures/ingest-chunks.json holds the
TypeScript side's output for tricky inputs, and both languages' tests check it
(models/tests/test_ingest_chunks.py, test/models/chat-contract.test.ts). HTML and PDF are not
ported: chunks of such documents cannot be joined and are counted as unsupported.
"""

import hashlib
import posixpath
import re

MAX_CHARS = 1000  # DEFAULT_CHUNKING in chunk.ts
OVERLAP_CHARS = 100
PARSED_SUFFIXES = (".txt", ".text", ".md", ".markdown")

WS = "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"  # JavaScript's \s
NOT_EOL = "[^\n\r\u2028\u2029]"  # JavaScript's .
BOL = "(?:\\A|(?<=[\n\r\u2028\u2029]))"  # JavaScript's ^ under the m flag
EOL = "(?=[\n\r\u2028\u2029]|\\Z)"  # JavaScript's $ under the m flag


def _len16(text: str) -> int:
    """JavaScript's string length: UTF-16 code units."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _slice16(text: str, start: int, end: int) -> str:
    units = text.encode("utf-16-le", "surrogatepass")
    return units[2 * start:2 * end].decode("utf-16-le", "surrogatepass")


def _trim(text: str) -> str:
    return re.sub(f"^{WS}+|{WS}+$", "", text)


def chunk_id(key: str, chunk_no: int) -> str:
    """chunkId in chunk.ts: the same in both engines, a hash of the object key plus the chunk number."""
    return f"{hashlib.sha1(key.encode()).hexdigest()[:20]}-{chunk_no}"


def strip_markdown(text: str) -> str:
    text = re.sub(r"```[^\n]*\n", "", text)
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(f"{BOL}#{{1,6}}{WS}+", "", text)
    text = re.sub(f"{BOL}{WS}*[-*+]{WS}+", "", text)
    return re.sub(r"[*_`]{1,3}([^*_`]+)[*_`]{1,3}", r"\1", text)


def parse_document(key: str, body: bytes) -> tuple[str, str]:
    """(title, text) as parseDocument in parse.ts, for plain text and Markdown."""
    ext = posixpath.splitext(key)[1].lower()
    name = posixpath.basename(key)
    fallback = name[: -len(ext)] if ext and name.endswith(ext) and name != ext else name
    if ext not in PARSED_SUFFIXES:
        raise ValueError(f"{key}: the chunks of '{ext or '(none)'}' documents cannot be rebuilt here; "
                         f"expected one of {list(PARSED_SUFFIXES)}")
    try:
        text = body.decode("utf-8-sig")  # TextDecoder drops a leading byte-order mark too
    except UnicodeDecodeError:
        raise ValueError(f"{key}: not valid UTF-8 text") from None
    if ext in (".txt", ".text"):
        return fallback, text
    heading = re.search(f"{BOL}#{{1,6}}{WS}+({NOT_EOL}+){EOL}", text)
    title = _trim(heading.group(1)) if heading else ""
    return title or fallback, strip_markdown(text)


def _split_long(paragraph: str, limit: int) -> list[str]:
    if _len16(paragraph) <= limit:
        return [paragraph]
    out: list[str] = []
    for sentence in re.split(f"(?<=[.!?。！？]){WS}+", paragraph):
        if _len16(sentence) <= limit:
            out.append(sentence)
            continue
        line = ""
        for word in sentence.split(" "):
            for i in range(0, _len16(word), limit):
                part = _slice16(word, i, i + limit)
                if line and _len16(line) + 1 + _len16(part) > limit:
                    out.append(line)
                    line = part
                else:
                    line = f"{line} {part}" if line else part
        if line:
            out.append(line)
    return out


def _tail(text: str, n: int) -> str:
    if n <= 0:
        return ""
    size = _len16(text)
    cut = _slice16(text, max(0, size - n), size)
    space = cut.find(" ")
    return cut[space + 1:] if space >= 0 else ""


def chunk_text(text: str, max_chars: int = MAX_CHARS, overlap_chars: int = OVERLAP_CHARS) -> list[str]:
    """chunkText in chunk.ts: paragraphs, whitespace-normalised, packed up to max_chars with overlap."""
    paragraphs = [p for p in (_trim(re.sub(f"{WS}+", " ", p)) for p in re.split(f"\n{WS}*\n", text)) if p]
    pieces = [piece for p in paragraphs for piece in _split_long(p, max_chars)]
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if not current:
            current = piece
        elif _len16(current) + 1 + _len16(piece) <= max_chars:
            current = f"{current} {piece}"
        else:
            chunks.append(current)
            carry = _tail(current, overlap_chars)
            current = f"{carry} {piece}" if carry and _len16(carry) + 1 + _len16(piece) <= max_chars else piece
    if current:
        chunks.append(current)
    return chunks
