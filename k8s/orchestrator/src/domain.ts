/**
 * Types several modules share, kept apart from the modules that implement them so that imports run
 * one way (indices.ts needs the engine names, retrieval.ts needs indices.ts).
 */

export type EngineName = "elasticsearch" | "opensearch";
