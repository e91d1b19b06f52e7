import * as path from "node:path";
import { convert } from "html-to-text";

/** Text and metadata of one raw document. */
export interface ParsedDocument {
  readonly title: string;
  readonly text: string;
  readonly contentType: "text/plain" | "text/markdown" | "text/html" | "application/pdf";
}

export class UnsupportedDocumentError extends Error {}

/** Parses by extension: text, Markdown, HTML (html-to-text) and PDF text (pdf-parse). */
export async function parseDocument(key: string, body: Buffer): Promise<ParsedDocument> {
  const ext = path.extname(key).toLowerCase();
  const fallbackTitle = path.basename(key, ext);
  switch (ext) {
    case ".txt":
    case ".text":
      return { title: fallbackTitle, text: decodeUtf8(key, body), contentType: "text/plain" };
    case ".md":
    case ".markdown": {
      const text = decodeUtf8(key, body);
      const heading = /^#{1,6}\s+(.+)$/m.exec(text)?.[1]?.trim();
      return { title: heading ?? fallbackTitle, text: stripMarkdown(text), contentType: "text/markdown" };
    }
    case ".html":
    case ".htm": {
      const html = decodeUtf8(key, body);
      const title = /<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();
      const text = convert(html, {
        wordwrap: false,
        selectors: [
          { selector: "a", options: { ignoreHref: true } },
          { selector: "img", format: "skip" },
          { selector: "title", format: "skip" },
        ],
      });
      return { title: title || fallbackTitle, text, contentType: "text/html" };
    }
    case ".pdf":
      return { title: fallbackTitle, text: await pdfText(key, body), contentType: "application/pdf" };
    default:
      throw new UnsupportedDocumentError(`${key}: unsupported document type "${ext || "(none)"}"`);
  }
}

function decodeUtf8(key: string, body: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw new UnsupportedDocumentError(`${key}: not valid UTF-8 text`);
  }
}

/** Keeps the words of Markdown, dropping syntax that would skew BM25 (links, emphasis, fences). */
export function stripMarkdown(text: string): string {
  return text
    .replace(/```[^\n]*\n/g, "")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/^#{1,6}\s+/gm, "")
    .replace(/^\s*[-*+]\s+/gm, "")
    .replace(/[*_`]{1,3}([^*_`]+)[*_`]{1,3}/g, "$1");
}

async function pdfText(key: string, body: Buffer): Promise<string> {
  // Loaded lazily: pdf.js is large and most runs see no PDF.
  const { PDFParse } = require("pdf-parse") as typeof import("pdf-parse");
  const parser = new PDFParse({ data: new Uint8Array(body) });
  try {
    const result = await parser.getText();
    return result.text;
  } catch (error) {
    throw new UnsupportedDocumentError(`${key}: unreadable PDF (${(error as Error).message})`);
  } finally {
    await parser.destroy();
  }
}
