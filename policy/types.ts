/**
 * The resource shapes the rules read. Rules match Pulumi type tokens rather than provider classes,
 * so the pack loads without @pulumi/alicloud and also checks types a provider version has not got.
 */

export const TYPES = {
  bucket: "alicloud:oss/bucket:Bucket",
  bucketAcl: "alicloud:oss/bucketAcl:BucketAcl",
  bucketPublicAccessBlock: "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketEncryption: "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption",
  elasticsearch: "alicloud:elasticsearch/instance:Instance",
  ecsInstance: "alicloud:ecs/instance:Instance",
  ecsDisk: "alicloud:ecs/ecsDisk:EcsDisk",
  legacyDisk: "alicloud:ecs/disk:Disk",
  nodePool: "alicloud:cs/nodePool:NodePool",
  cluster: "alicloud:cs/managedKubernetes:ManagedKubernetes",
  securityGroupRule: "alicloud:ecs/securityGroupRule:SecurityGroupRule",
  ramPolicy: "alicloud:ram/policy:Policy",
  rolePolicyAttachment: "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
  storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
  service: "kubernetes:core/v1:Service",
  pvc: "kubernetes:core/v1:PersistentVolumeClaim",
  easService: "alicloud:pai/service:Service",
} as const;

/** What every rule sees of a resource: the subset of @pulumi/policy's args it needs. */
export interface ResourceView {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Record<string, any>;
  readonly protect: boolean;
}

export type Report = (message: string, urn?: string) => void;

export type EnvironmentKind = "dev" | "prod" | "ephemeral";
