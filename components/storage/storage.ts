import * as pulumi from "@pulumi/pulumi";
import { privateBucket } from "./bucket";
import { STORAGE_PREFIXES, type StoragePrefixes } from "./layout";
import { bucketSettings, type StorageSettings } from "./settings";

export interface StorageArgs {
  /** Global cloud names, from stacks/naming `bucketName`. */
  readonly buckets: { readonly docs: string; readonly artifacts: string; readonly accessLogs: string };
  readonly settings: StorageSettings;
  /** True for prod: buckets and their settings are protected and retained on delete. */
  readonly protect: boolean;
  readonly tags: Record<string, string>;
}

/**
 * The docs bucket (raw documents, search and chat logs), the artifacts bucket (model archives)
 * and, with access logging on, an access-logs bucket both log into. All private and encrypted.
 */
export class Storage extends pulumi.ComponentResource {
  public readonly docsBucket: pulumi.Output<string>;
  public readonly artifactsBucket: pulumi.Output<string>;
  /** Undefined when `settings.accessLogging` is off. */
  public readonly accessLogsBucket: pulumi.Output<string | undefined>;
  /** The region's OSS endpoints (the same for every bucket here), e.g. oss-cn-hangzhou.aliyuncs.com. */
  public readonly extranetEndpoint: pulumi.Output<string>;
  /** The VPC-internal endpoint; nodes should use this one (no Internet traffic charges). */
  public readonly intranetEndpoint: pulumi.Output<string>;
  public readonly prefixes: pulumi.Output<StoragePrefixes>;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("backbone:storage:Storage", name, {}, opts);
    const childOpts: pulumi.CustomResourceOptions = {
      parent: this,
      protect: args.protect,
      retainOnDelete: args.protect,
    };

    const accessLogs = args.settings.accessLogging
      ? privateBucket(
          `${name}-access-logs`,
          {
            bucketName: args.buckets.accessLogs,
            settings: bucketSettings("accessLogs", args.settings),
            tags: args.tags,
          },
          childOpts,
        )
      : undefined;

    const dataBucket = (role: "docs" | "artifacts") =>
      privateBucket(
        `${name}-${role}`,
        {
          bucketName: args.buckets[role],
          settings: bucketSettings(role, args.settings),
          tags: args.tags,
          accessLogsBucket: accessLogs?.bucket,
        },
        childOpts,
      );
    const docs = dataBucket("docs");
    const artifacts = dataBucket("artifacts");

    this.docsBucket = docs.bucket;
    this.artifactsBucket = artifacts.bucket;
    this.accessLogsBucket = accessLogs ? accessLogs.bucket : pulumi.output(undefined);
    this.extranetEndpoint = docs.extranetEndpoint;
    this.intranetEndpoint = docs.intranetEndpoint;
    this.prefixes = pulumi.output(STORAGE_PREFIXES);

    this.registerOutputs({
      docsBucket: this.docsBucket,
      artifactsBucket: this.artifactsBucket,
      accessLogsBucket: this.accessLogsBucket,
      extranetEndpoint: this.extranetEndpoint,
      intranetEndpoint: this.intranetEndpoint,
      prefixes: this.prefixes,
    });
  }
}
