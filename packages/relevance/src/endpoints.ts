/**
 * Where the models are served: the one `ModelEndpoints` of the repository. The Pulumi program builds
 * it (components/model-endpoints), the search jobs read it from their endpoints file and the
 * orchestrator from its own, so all three agree on one shape.
 *
 * - protocol "contract": the project's model-endpoint contract (models/CONTRACT.md): embeddings take
 *   OpenAI's shape `{"input": string[]}` -> `{"data":[{"index","embedding"}],"model"}`; rerank takes
 *   Cohere's `{"query","documents","top_n"?}` -> `{"results":[{"index","relevance_score"}]}`.
 * - protocol "dashscope": DashScope's native APIs, with `Authorization: Bearer <key>`; the key is in
 *   the secret named by `authSecret`.
 */
export type ModelRole = "embedding" | "rerank";
export type Protocol = "contract" | "dashscope";

export interface ModelEndpoint {
  readonly url: string;
  /** The `model` value to send, and what an index generation records as the model of its vectors. */
  readonly model: string;
  readonly protocol: Protocol;
  /** Vector size the embedding endpoint serves; null for rerank, or where the endpoint does not declare it. */
  readonly dims: number | null;
  /** Name of the secret that holds the credential, or null when the endpoint takes none. */
  readonly authSecret: string | null;
}

export type ModelEndpoints = Readonly<Record<ModelRole, ModelEndpoint>>;

export const MODEL_ROLES: readonly ModelRole[] = ["embedding", "rerank"];
