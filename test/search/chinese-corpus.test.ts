import { chineseDocuments, chineseQueries, embed, parseFortunes, rerankScore } from "@search-backbone/test-engines";
import { describe, expect, it } from "vitest";

// The shape of Debian's fortunes-zh files: entries between lines of "%", attributions in colour codes.
const FILE = [
  "要有礼貌",
  "",
  "在 Debian 这种规模的项目中，很难避免遇到与你意见不和的人。",
  "\u001b[33m    -- Debian \u001b[32m《行为准则》\u001b[m第一条\u001b[m",
  "%",
  "读书不觉已春深，一寸光阴一寸金。",
  "\u001b[33m    -- 王贞白\u001b[32m《白鹿洞二首·其一》\u001b[m\u001b[m",
  "%",
  "",
  "%",
  "画人难画手，画树难画柳，画马难画走，画兽难画狗。",
  "    --《谚语》",
  "",
].join("\n");

describe("the Chinese corpus read from fortunes-zh", () => {
  it("splits a fortune file into its entries, without colour codes or empty entries", () => {
    const entries = parseFortunes(FILE);
    expect(entries).toHaveLength(3);
    expect(entries[0]).toBe(
      "要有礼貌\n\n在 Debian 这种规模的项目中，很难避免遇到与你意见不和的人。\n    -- Debian 《行为准则》第一条",
    );
    expect(entries.join("")).not.toContain("\u001b");
    expect(parseFortunes(FILE.replace(/\n/g, "\r\n"))).toEqual(entries);
  });

  it("picks documents with enough Han characters, evenly and reproducibly", () => {
    const entries = parseFortunes(FILE);
    // 34, 24 and 22 Han characters.
    const docs = chineseDocuments(entries, 2, 22);
    expect(docs.map((d) => d.key)).toEqual(["raw/zh/0000.txt", "raw/zh/0001.txt"]);
    expect(docs.map((d) => d.body.toString())).toEqual([entries[0], entries[1]]);
    expect(chineseDocuments(entries, 2, 22)).toEqual(docs);
    expect(chineseDocuments(entries, 2, 23).map((d) => d.body.toString())).toEqual([entries[0], entries[1]]);
    expect(chineseDocuments(entries, 1, 25).map((d) => d.body.toString())).toEqual([entries[0]]);
    expect(() => chineseDocuments(entries, 3, 23)).toThrow("only 2 entries hold 23+ Han characters; 3 asked");
  });

  it("draws one query per document from its first phrase of three or more Han characters", () => {
    const docs = chineseDocuments(parseFortunes(FILE), 3, 10);
    expect(chineseQueries(docs, 3)).toEqual(["要有礼貌", "读书不觉已春深", "画人难画手"]);
    expect(chineseQueries(docs, 3, 4)).toEqual(["要有礼貌", "读书不觉", "画人难画"]);
  });
});

describe("the test model server reads Chinese by character pairs", () => {
  it("ranks a document sharing the query's words above one that does not", () => {
    expect(rerankScore("一寸光阴", "读书不觉已春深，一寸光阴一寸金。")).toBeGreaterThan(
      rerankScore("一寸光阴", "画人难画手，画树难画柳。"),
    );
  });

  it("embeds Chinese texts that share words closer than texts that do not", () => {
    const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    const query = embed("光阴似金", 64);
    expect(cosine(query, embed("一寸光阴一寸金", 64))).toBeGreaterThan(cosine(query, embed("画树难画柳", 64)));
  });

  it("still reads a Latin word next to Han characters as one word", () => {
    expect(rerankScore("debian", "在Debian项目中")).toBeGreaterThanOrEqual(1);
  });
});
