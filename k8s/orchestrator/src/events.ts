/**
 * The telemetry event: what /v1/events accepts and the service records for its own exposures, as the
 * telemetry buffer, the event log and the recommender's engagement store all read it.
 */

export type EventType = "expose" | "click" | "citation_open" | "feedback";

export interface TelemetryEvent {
  readonly type: EventType;
  readonly ts: string;
  readonly userId: string;
  /** The authenticated caller (API key id or JWT subject) that reported it; never its groups. */
  readonly principalId?: string | undefined;
  readonly queryId: string;
  readonly query?: string | undefined;
  readonly docId?: string | undefined;
  readonly position?: number | undefined;
  readonly channel?: "search" | "chat" | "recs" | undefined;
  readonly value?: "up" | "down" | undefined;
  readonly traceId?: string | undefined;
  readonly sceneId?: string | undefined;
}
