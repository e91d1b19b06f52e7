import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

/**
 * The training code as uploaded to OSS: every file under models/ except caches, virtual
 * environments and build output, addressed by one content hash. The hash covers paths and bytes,
 * so a renamed or edited file is new code (and a new training run); timestamps do not count.
 */

const SKIP_DIRS = new Set([".venv", "venv", "__pycache__", ".pytest_cache", "model-store", "logs", ".mypy_cache"]);
const SKIP_FILES = /\.(pyc|pyo|mar|pt|bin|safetensors)$/;

export interface CodeFile {
  /** Path relative to the code folder, with "/" separators. */
  readonly relativePath: string;
  readonly absolutePath: string;
}

export interface CodeBundle {
  readonly files: readonly CodeFile[];
  /** sha256 over the sorted (path, content) pairs; "" for an empty folder. */
  readonly hash: string;
}

export function listCodeFiles(root: string): CodeFile[] {
  const found: CodeFile[] = [];
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries.sort()) {
      const absolutePath = path.join(dir, entry);
      const stat = statSync(absolutePath);
      if (stat.isDirectory()) {
        if (!SKIP_DIRS.has(entry) && !entry.startsWith(".")) walk(absolutePath);
      } else if (stat.isFile() && !SKIP_FILES.test(entry)) {
        found.push({ relativePath: path.relative(root, absolutePath).split(path.sep).join("/"), absolutePath });
      }
    }
  };
  walk(root);
  return found.sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1));
}

export function hashCode(files: readonly { relativePath: string; content: Buffer | string }[]): string {
  if (files.length === 0) return "";
  const hash = createHash("sha256");
  for (const file of [...files].sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1))) {
    hash.update(`${file.relativePath}\0${Buffer.byteLength(file.content)}\0`);
    hash.update(file.content);
  }
  return hash.digest("hex");
}

export function codeBundle(root: string): CodeBundle {
  const files = listCodeFiles(root);
  return {
    files,
    hash: hashCode(files.map((f) => ({ relativePath: f.relativePath, content: readFileSync(f.absolutePath) }))),
  };
}
