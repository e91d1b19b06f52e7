/**
 * The traffic's queries: section headings of the corpus, each with the document it comes from (the
 * document a user looking for that heading would click). Headings are the words an author chose to
 * name a passage, which is what a user types; a heading shared by several documents ("Examples")
 * names none of them and is left out.
 */

export interface HeadingQuery {
  readonly query: string;
  /** The document id: the file's path relative to the documents folder, as the API returns it. */
  readonly docId: string;
}

const UNDERLINE = /^([=\-~^*"#+`'.:_])\1{2,}\s*$/;

/** reStructuredText and Markdown markup a user would not type. */
export function cleanHeading(raw: string): string {
  return raw
    .replace(/:[a-z:]+:`([^`<]*?)\s*(?:<[^`>]*>)?`/g, "$1") // :mod:`abc`, :ref:`text <target>`
    .replace(/`+([^`]*)`+/g, "$1")
    .replace(/\*\*?([^*]+)\*\*?/g, "$1")
    .replace(/^#+\s*/, "")
    .replace(/\s+-{2,3}\s+|\s+—\s+/g, " ")
    .replace(/[\\|]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Section titles of one document: reStructuredText titles (a line over an underline) and Markdown `#` lines. */
export function headingsOf(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trimEnd();
    const next = (lines[i + 1] ?? "").trimEnd();
    const titled = line.trim() !== "" && !/^\s/.test(line) && !line.startsWith("..") && !UNDERLINE.test(line);
    if (titled && UNDERLINE.test(next) && next.length >= line.length) out.push(cleanHeading(line));
    else if (/^#{1,6}\s+\S/.test(line)) out.push(cleanHeading(line));
  }
  return out.filter((h) => h.split(" ").length >= 2 && h.length <= 200);
}

/**
 * Queries from every document: headings that occur in exactly one document (case-insensitive), in
 * a stable order spread over the documents (round-robin), so a short run still touches many.
 */
export function headingQueries(docs: ReadonlyMap<string, string>): HeadingQuery[] {
  const owners = new Map<string, Set<string>>();
  const perDoc = new Map<string, string[]>();
  for (const [docId, text] of [...docs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const unique = [...new Set(headingsOf(text))];
    perDoc.set(docId, unique);
    for (const h of unique) {
      const key = h.toLowerCase();
      const set = owners.get(key) ?? new Set<string>();
      set.add(docId);
      owners.set(key, set);
    }
  }
  const lists = [...perDoc].map(([docId, hs]) =>
    hs.filter((h) => owners.get(h.toLowerCase())?.size === 1).map((query) => ({ query, docId })),
  );
  const out: HeadingQuery[] = [];
  for (let round = 0; lists.some((l) => round < l.length); round++) {
    for (const l of lists) if (round < l.length) out.push(l[round] as HeadingQuery);
  }
  return out;
}
