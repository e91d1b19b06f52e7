import { airecInstanceArn, checkAccount, kmsKeyArn } from "./arns";
import { assertLeastPrivilege, type PolicyDocument, type Statement } from "./policy-document";

/**
 * What a CI deployer needs to run `pulumi up` for one stack: its RAM roles and custom policies, its
 * buckets, the VPC/ECS/ACK/ACR resources of its region and account. Scoped as far as each service's
 * RAM model allows:
 *  - RAM and OSS by name: every role, policy and bucket of the stack starts with `cloudName-`
 *    (stacks/naming.ts), so a deployer of `acme-dev` cannot touch `acme-prod-*`. Attaching is limited to
 *    the stack's own custom policies, so no system policy (no `*FullAccess`) can be attached by CI.
 *  - VPC, ECS, ACK, ACR and SLS writes to this region and account (`acs:<svc>:<region>:<uid>:*`): the
 *    resources are created with ids the deployer cannot know in advance. ACK ARNs
 *    `acs:cs:<region>:<uid>:cluster/<id>` [V ACK API reference].
 *  - Resource "*" only where the service authorises nothing narrower: Describe/List/Get reads
 *    (ecs:Describe*, vpc:Describe*, and the Describe, Get and List reads of cs) and the billing calls behind ACR Enterprise
 *    subscriptions (bssapi:*, [I] names; prod only).
 * Not covered (done once by an account admin, outside CI): activating ACK and authorising its service
 * roles (AliyunCSManagedKubernetesRole and friends), ACK's RRSA OIDC provider (created by ACK itself),
 * the KMS key. Action names follow each service's API names [V for ram/cs/oss/airec
 * instance ARNs; I for the wildcard verb groups of vpc/ecs/cr/log].
 * AIRec: with an adopted instance, the set-up calls of components/recommendations on that instance only;
 * with mode create, CreateInstance and the same calls on the region's instances, as the new id is unknown
 * in advance. ARN `acs:airec:{regionId}:{accountId}:instance/{InstanceId}` as AIRec's authorization tables
 * give it (e.g. https://www.alibabacloud.com/help/en/airec/airec/developer-reference/api-airec-2020-11-26-modifydatasource);
 * [I] for CreateInstance, whose page discloses no authorization.
 * Training (PAI): DLC jobs `paidlc:CreateJob|GetJob|StopJob|DeleteJob`, which authorise only Resource "*"
 * (https://help.aliyun.com/zh/pai/developer-reference/api-pai-dlc-2020-12-03-ram); the workspace and its
 * datasets under RAM code `paiworkspace`, whose CreateWorkspace authorises only "*"
 * (https://help.aliyun.com/zh/pai/developer-reference/api-aiworkspace-2021-02-04-ram) [V for the workspace
 * calls and the code; I for the dataset action names]; the training code bundle's objects under
 * models/training-code/ of the stack's buckets.
 * TorchServe hosts: the internal NLB, RAM code `nlb`, ARNs `acs:nlb:<region>:<uid>:loadbalancer/<id>`
 * (https://www.alibabacloud.com/help/en/slb/ram-authentication). Its first use creates the service-linked
 * role AliyunServiceRoleForNlb (ram:CreateServiceLinkedRole), which is left to the account admin.
 */

export interface DeployerPolicyInput {
  readonly accountId: string;
  readonly region: string;
  /** Every cloud name of the stack starts with `${cloudName}-`, e.g. "acme-dev". */
  readonly cloudName: string;
  /** Ephemeral stacks empty their buckets on destroy (storage.forceDestroy). */
  readonly emptyBucketsOnDestroy?: boolean;
  readonly registryEdition?: "personal" | "enterprise";
  /** The KMS key buckets encrypt with, if any. */
  readonly kmsKeyId?: string;
  /** AIRec managed by this stack: an adopted instance's id, or create (buy one). */
  readonly airec?: { readonly instanceId?: string; readonly create?: boolean };
  /** The stack trains on PAI DLC (models.training.enabled). */
  readonly training?: boolean;
  /** The stack runs TorchServe hosts behind an internal NLB. */
  readonly gpuServing?: boolean;
  /**
   * The stack runs PAI-EAS services (chat.backend or serving.backend eas) in this PAI workspace.
   * EAS authorises by service ARN `acs:eas:{regionId}:{accountId}:service/{ServiceName}` [V: EAS API
   * pages, e.g. https://help.aliyun.com/en/pai/developer-reference/api-eas-2021-07-01-createservicerollout];
   * the stack's services are named `<cloudName with _>_*` (stacks/eas.ts), so the deployer reaches no
   * other stack's service. The workspace id is a CreateService body field, not a RAM resource: no
   * workspace condition key was found, so the name prefix is the scope [I].
   */
  readonly eas?: { readonly workspaceId: string };
}

/** How a stack manages AIRec: off, an instance adopted by id, or one it buys. */
export interface AirecManagement {
  readonly mode: "off" | "adopt" | "create";
  readonly instanceId?: string | undefined;
}

/** The deployer's AIRec scope: create when buying, the adopted instance's id, or nothing. */
export function airecDeployerInput({ mode, instanceId }: AirecManagement): DeployerPolicyInput["airec"] {
  if (mode === "create") return { create: true };
  return mode === "adopt" && instanceId ? { instanceId } : {};
}

/** What the AIRec instance resource calls on every up and refresh. */
export const AIREC_SETUP_ACTIONS = [
  "airec:DescribeInstance",
  "airec:ListScenes",
  "airec:CreateScene",
  "airec:ListDataSource",
] as const;

const CLOUD_NAME = /^[a-z][a-z0-9-]{1,40}[a-z0-9]$/;

const allow = (Action: string[], Resource: string[]): Statement => ({ Effect: "Allow", Action, Resource });

export function deployerPolicy(input: DeployerPolicyInput): PolicyDocument {
  const uid = checkAccount(input.accountId);
  if (!CLOUD_NAME.test(input.cloudName))
    throw new Error(`deployer: invalid cloudName ${JSON.stringify(input.cloudName)}`);
  const { region, cloudName } = input;
  const scoped = (svc: string) => `acs:${svc}:${region}:${uid}:*`;
  const buckets = `acs:oss:*:${uid}:${cloudName}-*`;

  const statements: Statement[] = [
    allow(
      [
        "ram:CreateRole",
        "ram:GetRole",
        "ram:UpdateRole",
        "ram:DeleteRole",
        "ram:ListPoliciesForRole",
        "ram:AttachPolicyToRole",
        "ram:DetachPolicyFromRole",
        "ram:PassRole",
        "ram:CreatePolicy",
        "ram:GetPolicy",
        "ram:DeletePolicy",
        "ram:CreatePolicyVersion",
        "ram:GetPolicyVersion",
        "ram:ListPolicyVersions",
        "ram:DeletePolicyVersion",
        "ram:SetDefaultPolicyVersion",
        "ram:ListEntitiesForPolicy",
        "ram:TagResources",
        "ram:UntagResources",
        "ram:ListTagResources",
      ],
      [`acs:ram:*:${uid}:role/${cloudName}-*`, `acs:ram:*:${uid}:policy/${cloudName}-*`],
    ),
    allow(["oss:PutBucket*", "oss:GetBucket*", "oss:DeleteBucket*"], [buckets]),
    allow(
      [
        "vpc:Create*",
        "vpc:Delete*",
        "vpc:Modify*",
        "vpc:Associate*",
        "vpc:Unassociate*",
        "vpc:Allocate*",
        "vpc:Release*",
        "vpc:TagResources",
        "vpc:UnTagResources",
      ],
      [scoped("vpc")],
    ),
    allow(
      [
        "ecs:Create*",
        "ecs:Delete*",
        "ecs:Modify*",
        "ecs:RunInstances",
        "ecs:StartInstance",
        "ecs:StopInstance",
        "ecs:RebootInstance",
        "ecs:AuthorizeSecurityGroup*",
        "ecs:RevokeSecurityGroup*",
        "ecs:AttachInstanceRamRole",
        "ecs:DetachInstanceRamRole",
        "ecs:TagResources",
        "ecs:UntagResources",
      ],
      [scoped("ecs")],
    ),
    allow(
      [
        "cs:CreateCluster",
        "cs:ModifyCluster",
        "cs:DeleteCluster",
        "cs:CreateClusterNodePool",
        "cs:ModifyClusterNodePool",
        "cs:ScaleClusterNodePool",
        "cs:DeleteClusterNodepool",
        "cs:InstallClusterAddons",
        "cs:UpdateResourcesDeleteProtection",
        "cs:DescribeClusterUserKubeconfig",
        "cs:TagResources",
        "cs:UntagResources",
      ],
      [scoped("cs")],
    ),
    allow(["cr:Create*", "cr:Update*", "cr:Delete*", "cr:Get*", "cr:List*"], [scoped("cr")]),
    // The logging addon's SLS project, k8s-log-<clusterId>, when the cluster is created [I].
    allow(["log:CreateProject", "log:GetProject", "log:DeleteProject"], [`acs:log:${region}:${uid}:project/k8s-log-*`]),
    allow(["ecs:Describe*", "vpc:Describe*", "cs:Describe*", "cs:Get*", "cs:List*"], ["*"]),
  ];
  if (input.emptyBucketsOnDestroy) {
    statements.push(
      allow(
        [
          "oss:ListObjects",
          "oss:ListObjectVersions",
          "oss:ListMultipartUploads",
          "oss:DeleteObject",
          "oss:DeleteObjectVersion",
          "oss:AbortMultipartUpload",
        ],
        [buckets, `${buckets}/*`],
      ),
    );
  }
  if (input.registryEdition === "enterprise") {
    statements.push(allow(["bssapi:CreateInstance", "bssapi:QueryAvailableInstances", "bssapi:SetRenewal"], ["*"]));
  }
  if (input.airec?.create) {
    statements.push(allow(["airec:CreateInstance", ...AIREC_SETUP_ACTIONS], [`acs:airec:${region}:${uid}:instance/*`]));
  } else if (input.airec?.instanceId) {
    statements.push(allow([...AIREC_SETUP_ACTIONS], [airecInstanceArn(region, uid, input.airec.instanceId)]));
  }
  if (input.training) {
    statements.push(
      allow(["paidlc:CreateJob", "paidlc:GetJob", "paidlc:StopJob", "paidlc:DeleteJob"], ["*"]),
      allow(
        [
          "paiworkspace:CreateWorkspace",
          "paiworkspace:GetWorkspace",
          "paiworkspace:UpdateWorkspace",
          "paiworkspace:DeleteWorkspace",
          "paiworkspace:CreateDataset",
          "paiworkspace:GetDataset",
          "paiworkspace:UpdateDataset",
          "paiworkspace:DeleteDataset",
        ],
        ["*"],
      ),
      allow(["oss:PutObject", "oss:GetObject", "oss:DeleteObject"], [`${buckets}/models/training-code/*`]),
    );
  }
  if (input.gpuServing) {
    statements.push(
      allow(
        [
          "nlb:Create*",
          "nlb:Delete*",
          "nlb:Update*",
          "nlb:Get*",
          "nlb:List*",
          "nlb:AddServersToServerGroup",
          "nlb:RemoveServersFromServerGroup",
          "nlb:TagResources",
          "nlb:UntagResources",
        ],
        [scoped("nlb")],
      ),
    );
  }
  if (input.eas) {
    if (!/^\d+$/.test(input.eas.workspaceId))
      throw new Error(
        `eas.workspaceId: got ${JSON.stringify(input.eas.workspaceId)}; expected a PAI workspace id (digits)`,
      );
    const services = `acs:eas:${region}:${uid}:service/${input.cloudName.replace(/-/g, "_")}_*`;
    statements.push(
      allow(
        [
          "eas:CreateService",
          "eas:DescribeService",
          "eas:UpdateService",
          "eas:DeleteService",
          "eas:StartService",
          "eas:StopService",
          "eas:CreateServiceLabel",
          "eas:DeleteServiceLabel",
        ],
        [services],
      ),
    );
  }
  if (input.kmsKeyId) {
    statements.push(allow(["kms:DescribeKey"], [kmsKeyArn(region, uid, input.kmsKeyId)]));
  }
  return assertLeastPrivilege({ Version: "1", Statement: statements });
}
