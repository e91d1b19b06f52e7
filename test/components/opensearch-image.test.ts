import { enginesLacking } from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import { OPENSEARCH_IMAGE_TAG, OPENSEARCH_VERSION } from "../../components/search/opensearch-manifests";
import { readRepoFile } from "../helpers/stack-files";

/** Logical lines of a Dockerfile: continuations joined, comments dropped. */
const instructions = (text: string) =>
  text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

describe("the cluster's OpenSearch image has the smartcn analyzer the profile may name", () => {
  const dockerfile = instructions(readRepoFile("k8s/opensearch/Dockerfile"));

  it("starts from the official image at the version the manifests run", () => {
    expect(dockerfile[0]).toBe(`ARG BASE=opensearchproject/opensearch:${OPENSEARCH_VERSION}`);
    expect(dockerfile[1]).toMatch(/^FROM \$\{BASE\}$/);
  });

  it("installs the official analysis-smartcn plugin by name, so at the image's own version", () => {
    const installs = dockerfile.filter((line) => line.includes("opensearch-plugin install"));
    expect(installs).toEqual(["RUN /usr/share/opensearch/bin/opensearch-plugin install --batch analysis-smartcn"]);
    expect(enginesLacking("smartcn")).toEqual([]);
  });

  it("is tagged after its version and plugin set, and the mirroring guide builds that tag", () => {
    expect(OPENSEARCH_IMAGE_TAG).toBe(`${OPENSEARCH_VERSION}-smartcn`);
    const guide = readRepoFile("k8s/backbone/README.md");
    expect(guide).toContain(
      `--build-arg BASE=$ACR/opensearch:${OPENSEARCH_VERSION} -t $ACR/opensearch:${OPENSEARCH_IMAGE_TAG} k8s/opensearch`,
    );
  });
});
