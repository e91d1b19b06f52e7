import { type ElasticsearchClient, EngineError, type OpenSearchClient, quoting } from "@search-backbone/engines";
import { esRequester, osRequester, type Request } from "../setup/aliases";

/** The little each engine must do for ingestion, behind one interface so both get the same calls. */
export interface Store {
  readonly engine: "elasticsearch" | "opensearch";
  readonly request: Request;
  /** Bulk operations (action/source lines as objects); any failed item fails the call, quoting it. */
  bulk(step: string, operations: readonly object[]): Promise<void>;
}

function firstItemError(items: any[] | undefined): unknown {
  for (const item of items ?? []) {
    const result = Object.values(item)[0] as { error?: unknown; status?: number } | undefined;
    // A delete of an id that is already gone is not a failure.
    if (result?.error && !(result.status === 404)) return result.error;
  }
  return undefined;
}

export function esStore(es: ElasticsearchClient): Store {
  return {
    engine: "elasticsearch",
    request: esRequester(es),
    async bulk(step, operations) {
      if (operations.length === 0) return;
      const body = await quoting("elasticsearch", step, () => es.bulk({ operations: operations as any[] }));
      const error = body.errors ? firstItemError(body.items) : undefined;
      if (error) throw new EngineError("elasticsearch", step, error);
    },
  };
}

export function osStore(os: OpenSearchClient): Store {
  return {
    engine: "opensearch",
    request: osRequester(os),
    async bulk(step, operations) {
      if (operations.length === 0) return;
      const response = await quoting("opensearch", step, () => os.bulk({ body: operations as any[] }));
      const error = response.body.errors ? firstItemError(response.body.items as any[]) : undefined;
      if (error) throw new EngineError("opensearch", step, error);
    },
  };
}
