import { createHash } from "node:crypto";

export interface ChunkOptions {
  /** Target characters per chunk; chunks break at paragraph, then sentence, then word boundaries. */
  readonly maxChars: number;
  /** Characters carried over from the end of one chunk into the next. */
  readonly overlapChars: number;
}

export const DEFAULT_CHUNKING: ChunkOptions = { maxChars: 1000, overlapChars: 100 };

/** Splits text into chunks of at most maxChars (a single longer word is cut). Whitespace-normalised. */
export function chunkText(text: string, options: ChunkOptions = DEFAULT_CHUNKING): string[] {
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, " ").trim())
    .filter(Boolean);
  const pieces = paragraphs.flatMap((p) => splitLong(p, options.maxChars));
  const chunks: string[] = [];
  let current = "";
  for (const piece of pieces) {
    if (!current) current = piece;
    else if (current.length + 1 + piece.length <= options.maxChars) current = `${current} ${piece}`;
    else {
      chunks.push(current);
      const carry = tail(current, options.overlapChars);
      current = carry && carry.length + 1 + piece.length <= options.maxChars ? `${carry} ${piece}` : piece;
    }
  }
  if (current) chunks.push(current);
  return chunks;
}

function splitLong(paragraph: string, max: number): string[] {
  if (paragraph.length <= max) return [paragraph];
  const sentences = paragraph.split(/(?<=[.!?。！？])\s+/);
  return sentences.flatMap((s) => {
    if (s.length <= max) return [s];
    const words = s.split(" ");
    const out: string[] = [];
    let line = "";
    for (const word of words) {
      for (let i = 0; i < word.length; i += max) {
        const part = word.slice(i, i + max);
        if (line && line.length + 1 + part.length > max) {
          out.push(line);
          line = part;
        } else line = line ? `${line} ${part}` : part;
      }
    }
    if (line) out.push(line);
    return out;
  });
}

/** The last ~n characters, starting at a word boundary. */
function tail(text: string, n: number): string {
  if (n <= 0) return "";
  const cut = text.slice(-n);
  const space = cut.indexOf(" ");
  return space >= 0 ? cut.slice(space + 1) : "";
}

/** Chunk ids are the same in both engines: a hash of the object key plus the chunk number. */
export function chunkId(key: string, chunkNo: number): string {
  return `${createHash("sha1").update(key).digest("hex").slice(0, 20)}-${chunkNo}`;
}

export function stateId(key: string): string {
  return createHash("sha1").update(key).digest("hex");
}
