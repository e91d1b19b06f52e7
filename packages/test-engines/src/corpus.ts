import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

/**
 * A reproducible corpus in every supported format (Markdown, text, HTML, PDF), plus documents that
 * must be reported and skipped (a broken PDF, an unsupported type). Topics overlap in vocabulary so
 * BM25 and vector search disagree often enough for fusion to matter.
 */
const TOPICS = [
  ["password", "reset", "account", "login", "email", "security", "token", "expire"],
  ["invoice", "billing", "payment", "refund", "currency", "tax", "receipt", "subscription"],
  ["cluster", "node", "shard", "replica", "index", "heap", "disk", "snapshot"],
  ["vector", "embedding", "similarity", "cosine", "dimension", "model", "neural", "recall"],
  ["kubernetes", "pod", "deployment", "service", "ingress", "namespace", "secret", "volume"],
  ["network", "vpc", "subnet", "gateway", "firewall", "route", "latency", "bandwidth"],
  ["storage", "bucket", "object", "lifecycle", "versioning", "encryption", "archive", "upload"],
  ["chat", "citation", "answer", "question", "context", "prompt", "stream", "session"],
  ["recommendation", "user", "click", "exposure", "ranking", "feed", "personal", "history"],
  ["training", "dataset", "epoch", "loss", "gradient", "checkpoint", "evaluation", "metric"],
];
const FILLER = ["the", "a", "with", "for", "when", "after", "before", "each", "every", "into", "from", "about"];

function rng(seed: number) {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    x ^= x + Math.imul(x ^ (x >>> 7), 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function paragraph(random: () => number, topic: readonly string[], other: readonly string[]): string {
  const words: string[] = [];
  const n = 40 + Math.floor(random() * 30);
  for (let i = 0; i < n; i++) {
    const r = random();
    const pool = r < 0.45 ? topic : r < 0.6 ? other : FILLER;
    words.push(pool[Math.floor(random() * pool.length)] as string);
  }
  return `${words.join(" ")}.`;
}

export interface CorpusDoc {
  readonly key: string;
  readonly body: Buffer;
}

export function corpusDocuments(count: number, seed = 7): CorpusDoc[] {
  const random = rng(seed);
  const docs: CorpusDoc[] = [];
  for (let i = 0; i < count; i++) {
    const topic = TOPICS[i % TOPICS.length]!;
    const other = TOPICS[(i * 7 + 3) % TOPICS.length]!;
    const paragraphs = Array.from({ length: 3 + (i % 3) }, () => paragraph(random, topic, other));
    const title = `${topic[0]} guide ${i}`;
    const format = i % 4;
    if (format === 0) {
      docs.push({ key: `raw/md/doc-${i}.md`, body: Buffer.from(`# ${title}\n\n${paragraphs.join("\n\n")}\n`) });
    } else if (format === 1) {
      docs.push({ key: `raw/txt/doc-${i}.txt`, body: Buffer.from(paragraphs.join("\n\n")) });
    } else if (format === 2) {
      const html = `<html><head><title>${title}</title><script>var x = "ignored";</script></head><body>${paragraphs
        .map((p) => `<p>${p}</p>`)
        .join("")}</body></html>`;
      docs.push({ key: `raw/html/doc-${i}.html`, body: Buffer.from(html) });
    } else {
      docs.push({ key: `raw/pdf/doc-${i}.pdf`, body: simplePdf(paragraphs) });
    }
  }
  docs.push({ key: "raw/pdf/broken.pdf", body: Buffer.from("%PDF-1.4\nthis is not really a pdf\n") });
  docs.push({ key: "raw/misc/slides.pptx", body: Buffer.from("PK\u0003\u0004binary") });
  return docs;
}

export function writeCorpus(root: string, docs: readonly CorpusDoc[]): void {
  for (const doc of docs) {
    const file = path.join(root, ...doc.key.split("/"));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, doc.body);
  }
}

/** Queries of two or three topic words, some mixing topics. */
export function corpusQueries(count: number, seed = 11): string[] {
  const random = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const topic = TOPICS[i % TOPICS.length]!;
    const other = TOPICS[Math.floor(random() * TOPICS.length)]!;
    const pick = (pool: readonly string[]) => pool[Math.floor(random() * pool.length)] as string;
    return i % 3 === 0 ? `${pick(topic)} ${pick(other)}` : `${pick(topic)} ${pick(topic)} ${pick(other)}`;
  });
}

/** A one-page PDF with Helvetica text lines, wrapped at ~90 characters. */
export function simplePdf(paragraphs: readonly string[]): Buffer {
  const lines = paragraphs.flatMap((p) => [...wrap(p, 90), ""]);
  const escapePdf = (s: string) => s.replace(/[\\()]/g, (c) => `\\${c}`);
  const content = `BT /F1 10 Tf 12 TL 40 760 Td ${lines.map((l) => `(${escapePdf(l)}) Tj T*`).join(" ")} ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${Buffer.byteLength(content)} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
