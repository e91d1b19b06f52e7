import {
  divergences,
  esFacts,
  osFacts,
  type RelevanceProfile,
  relevanceSummaries,
  relevanceSummary,
  renderEs,
  renderOs,
} from "@search-backbone/relevance";
import { describe, expect, it } from "vitest";
import { ENDPOINTS, PROFILE, withProfile } from "./profile-fixtures";

/**
 * Parity of the renderings: the facts that decide ranking, read back from each engine's rendered
 * objects, must agree. The mutation cases prove the check fails on any single divergence.
 */
const PROFILES: [string, RelevanceProfile][] = [
  ["dev defaults", PROFILE],
  [
    "prod sizes",
    withProfile({ embedding: { model: "bge-large-zh-v1.5", dims: 1024 }, candidateDepth: 200, rerankWindow: 100 }),
  ],
  ["other weights and analyzer", withProfile({ bm25Weight: 0.55, vectorWeight: 0.45, analyzer: "english" })],
  ["dot product", withProfile({ similarity: "dot_product" })],
  ["l2", withProfile({ similarity: "l2_norm", embedding: { model: "m", dims: 64 } })],
];

describe.each(PROFILES)("renderings of %s", (_name, profile) => {
  it("agree on dims, similarity, HNSW, shards, analysis, fusion, weights, depth and window", () => {
    const es = esFacts(renderEs(profile, ENDPOINTS));
    const os = osFacts(renderOs(profile, ENDPOINTS));
    expect(divergences(es, os)).toEqual([]);
    expect(es).toMatchObject({
      dims: profile.embedding.dims,
      similarity: profile.similarity,
      weights: [profile.bm25Weight, profile.vectorWeight],
      depth: { bm25: profile.candidateDepth, knn: profile.candidateDepth },
      rerankWindow: profile.rerankWindow,
      analyzer: profile.analyzer,
      primaryShards: 1,
      hnsw: { quantized: false },
    });
  });
  it("give the policy pack two equal summaries that carry the profile's values", () => {
    const [es, os] = relevanceSummaries(profile, ENDPOINTS);
    const expected = {
      bm25Weight: profile.bm25Weight,
      vectorWeight: profile.vectorWeight,
      similarity: profile.similarity,
      embeddingDims: profile.embedding.dims,
      candidateDepth: profile.candidateDepth,
      rerankWindow: profile.rerankWindow,
      topK: profile.topK,
    };
    expect(es).toEqual({ engine: "elasticsearch", ...expected });
    expect(os).toEqual({ engine: "opensearch", ...expected });
  });
});

describe("a relevance summary", () => {
  it("is read from the rendering, so a drifted renderer shows in it", () => {
    const rendering = renderOs(PROFILE, ENDPOINTS);
    rendering.searchPipeline.phase_results_processors[0]["normalization-processor"].combination.parameters.weights = [
      0.5, 0.5,
    ];
    rendering.hybridQuery.query.hybrid.pagination_depth = 10;
    const summary = relevanceSummary("opensearch", osFacts(rendering), PROFILE.topK);
    expect(summary).toMatchObject({ bm25Weight: 0.5, vectorWeight: 0.5, candidateDepth: 10 });
  });
});

describe("the parity check fails on any divergence", () => {
  const mutations: [string, (es: any, os: any) => void][] = [
    [
      "dims",
      (_es, os) => {
        os.index.mappings.properties.embedding.dimension = 512;
      },
    ],
    [
      "similarity",
      (_es, os) => {
        os.index.mappings.properties.embedding.method.space_type = "l2";
      },
    ],
    [
      "similarity",
      (es) => {
        es.index.mappings.properties.embedding.similarity = "dot_product";
      },
    ],
    [
      "hnsw",
      (es) => {
        es.index.mappings.properties.embedding.index_options.type = "int8_hnsw";
      },
    ],
    [
      "hnsw",
      (_es, os) => {
        os.index.settings.index.knn = false;
      },
    ],
    [
      "hnsw",
      (_es, os) => {
        os.index.mappings.properties.embedding.method.parameters.m = 32;
      },
    ],
    [
      "primaryShards",
      (_es, os) => {
        os.index.settings.index.number_of_shards = 2;
      },
    ],
    [
      "analyzer",
      (_es, os) => {
        os.index.mappings.properties.content.analyzer = "english";
      },
    ],
    [
      "weights",
      (_es, os) => {
        os.searchPipeline.phase_results_processors[0]["normalization-processor"].combination.parameters.weights = [
          0.7, 0.3,
        ];
      },
    ],
    [
      "normalization",
      (_es, os) => {
        os.fusionPipeline.phase_results_processors[0]["normalization-processor"].normalization.technique = "l2";
      },
    ],
    [
      "depth",
      (_es, os) => {
        os.hybridQuery.query.hybrid.pagination_depth = 50;
      },
    ],
    [
      "depth",
      (es) => {
        es.knn.knn.k = 10;
      },
    ],
    [
      "rerankWindow",
      (_es, os) => {
        os.hybridQuery.size = 10;
      },
    ],
    [
      "rerankWindow",
      (_es, os) => {
        os.searchPipeline.response_processors = [];
      },
    ],
    [
      "rerankUrl",
      (_es, os) => {
        os.rerankConnector.actions[0].url = "http://elsewhere/v1/rerank";
      },
    ],
  ];

  it.each(mutations)("reports %s", (fact, mutate) => {
    const es = structuredClone(renderEs(PROFILE, ENDPOINTS)) as any;
    const os = structuredClone(renderOs(PROFILE, ENDPOINTS)) as any;
    mutate(es, os);
    expect(divergences(esFacts(es), osFacts(os)).map((d) => d.fact)).toContain(fact);
  });
});
