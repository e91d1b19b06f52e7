import { acquireEngines, stopEngines } from "@search-backbone/test-engines";

/**
 * The suite's files share one pair of nodes: started here once (or found running, or named by
 * ELASTICSEARCH_URL / OPENSEARCH_URL), so each file's own acquireEngines finds them, and stopped at the
 * end only if started here. Starting them per file would cost each file another start-up.
 */
export default async function setup(): Promise<() => void> {
  const engines = await acquireEngines();
  return () => {
    if (engines?.startedHere) stopEngines();
  };
}
