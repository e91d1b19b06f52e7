import { readFileSync } from "node:fs";
import { elasticsearchClient, openSearchClient } from "@search-backbone/engines";
import type { ModelEndpoints, RelevanceProfile } from "@search-backbone/relevance";
import { ModelClient } from "@search-backbone/relevance";
import { ingest } from "./ingest/ingest";
import { defaultAccessOf } from "./ingest/permissions";
import { type DocumentSource, FolderSource, OssSource } from "./ingest/source";
import { esStore, osStore } from "./ingest/stores";
import { runSetup } from "./setup/index";
import type { EngineUserPasswords } from "./setup/users";

/**
 * Entry point of the image: `setup` (the Job) or `ingest` (the CronJob). Everything comes from the
 * environment the components set: the rendered profile and endpoints as files from a ConfigMap,
 * engine credentials from Secrets.
 */

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

const optional = (name: string) => process.env[name] || undefined;
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

function connections() {
  const es = elasticsearchClient({
    url: required("ELASTICSEARCH_URL"),
    ...(optional("ELASTICSEARCH_USERNAME") ? { username: optional("ELASTICSEARCH_USERNAME") } : {}),
    ...(optional("ELASTICSEARCH_PASSWORD") ? { password: optional("ELASTICSEARCH_PASSWORD") } : {}),
  });
  const os = openSearchClient({
    url: required("OPENSEARCH_URL"),
    ...(optional("OPENSEARCH_USERNAME") ? { username: optional("OPENSEARCH_USERNAME") } : {}),
    ...(optional("OPENSEARCH_PASSWORD") ? { password: optional("OPENSEARCH_PASSWORD") } : {}),
    ...(optional("OPENSEARCH_CA_FILE") ? { caFile: optional("OPENSEARCH_CA_FILE") } : {}),
  });
  return { es, os };
}

/** Both or neither: the Job gets the reader's and writer's passwords from their Secrets. */
function engineUserPasswords(): EngineUserPasswords | undefined {
  const reader = optional("ENGINE_READER_PASSWORD");
  const writer = optional("ENGINE_WRITER_PASSWORD");
  if (!reader && !writer) return undefined;
  if (!reader || !writer) {
    throw new Error(
      `environment variable ${reader ? "ENGINE_WRITER_PASSWORD" : "ENGINE_READER_PASSWORD"} is required when the other engine-user password is set`,
    );
  }
  return { reader, writer };
}

function source(): DocumentSource {
  const folder = optional("SOURCE_FOLDER");
  if (folder) return new FolderSource(folder);
  return new OssSource({
    bucket: required("OSS_BUCKET"),
    region: required("OSS_REGION"),
    ...(optional("OSS_ENDPOINT") ? { endpoint: optional("OSS_ENDPOINT") } : {}),
    accessKeyId: required("ALIBABA_CLOUD_ACCESS_KEY_ID"),
    accessKeySecret: required("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ...(optional("ALIBABA_CLOUD_SECURITY_TOKEN") ? { securityToken: optional("ALIBABA_CLOUD_SECURITY_TOKEN") } : {}),
  });
}

async function main(command: string | undefined): Promise<void> {
  const profile = JSON.parse(readFileSync(required("PROFILE_FILE"), "utf8")) as RelevanceProfile;
  const endpoints = JSON.parse(readFileSync(required("ENDPOINTS_FILE"), "utf8")) as ModelEndpoints;
  const base = required("INDEX_ALIAS");
  const apiKey = optional("MODEL_API_KEY");
  const models = new ModelClient({
    endpoints,
    maxBatch: Number(optional("EMBED_BATCH") ?? 32),
    concurrency: Number(optional("EMBED_CONCURRENCY") ?? 2),
    ...(apiKey ? { apiKey } : {}),
  });
  const engines = connections();
  if (command === "setup") {
    const users = engineUserPasswords();
    await runSetup(engines, models, {
      base,
      profile,
      endpoints,
      ...(apiKey ? { auth: { apiKey } } : {}),
      ...(users ? { users } : {}),
      log,
    });
    log("setup: the backbone is ready");
  } else if (command === "ingest") {
    const report = await ingest(source(), [esStore(engines.es), osStore(engines.os)], models, {
      base,
      profile,
      prefix: optional("RAW_PREFIX") ?? "raw/",
      defaultAccess: defaultAccessOf(optional("DEFAULT_ACCESS")),
      log,
    });
    log(`ingest: done ${JSON.stringify(report)}`);
    if (report.failed.length > 0) log(`ingest: ${report.failed.length} document(s) skipped, listed above`);
  } else {
    throw new Error(`usage: cli.js setup|ingest (got ${command ?? "nothing"})`);
  }
}

main(process.argv[2]).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
