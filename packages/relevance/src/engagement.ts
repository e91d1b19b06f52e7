/**
 * The engagement index: the orchestrator's positive engagements (clicks, opened citations, helpful
 * feedback), shared by every replica and kept across restarts. The backbone setup creates it in
 * Elasticsearch next to the chunk index (k8s/backbone/src/setup/elasticsearch.ts), so the service
 * itself needs no right to create indices; the service writes it in batches from its telemetry buffer
 * and reads it for the recommendations fallback (k8s/orchestrator/src/engagement.ts).
 *
 * One index, not one per generation: engagement outlives index rebuilds. It holds principal ids and
 * the caller's user ids, never groups. Retention is by age: the service deletes events older than
 * ENGAGEMENT_RETENTION_DAYS (a delete-by-query once an hour), which keeps the index to a bounded window
 * without ILM or ISM (the local test nodes have neither).
 */

/** The engagement index of a chunk alias; never a versioned index name (isVersionedIndex), so never retired. */
export function engagementIndex(base: string): string {
  return `${base}-engagement`;
}

/** The fields of one engagement document. */
export const ENGAGEMENT_FIELDS = {
  ts: "ts",
  userId: "userId",
  principalId: "principalId",
  docId: "docId",
  type: "type",
  channel: "channel",
} as const;

/** Index body: keyword ids, the event time as a date; strict, so a stray field is refused, not mapped. */
export function engagementIndexBody(replicas = 0) {
  const f = ENGAGEMENT_FIELDS;
  return {
    settings: { number_of_shards: 1, number_of_replicas: replicas },
    mappings: {
      dynamic: "strict" as const,
      properties: {
        [f.ts]: { type: "date" as const },
        [f.userId]: { type: "keyword" as const },
        [f.principalId]: { type: "keyword" as const },
        [f.docId]: { type: "keyword" as const },
        [f.type]: { type: "keyword" as const },
        [f.channel]: { type: "keyword" as const },
      },
    },
  };
}
