import type { Policies } from "@pulumi/policy";
import { gpuBudgetAdvisory, gpuSpotOutsideProd } from "./rules/compute";
import { easNoPublicEndpoint, easVpcOnly } from "./rules/eas";
import { noFullAccessOnWorkloadRole, ramNoWildcardAdmin } from "./rules/identity";
import { protectStatefulProd, requiredTags } from "./rules/lifecycle";
import { sgNoOpenIngress } from "./rules/network";
import { bm25WeightAdvisory, relevanceEnginesAgree, searchDisksEncrypted, searchNotPublic } from "./rules/search";
import { ossEncrypted, ossNoPublicAccess } from "./rules/storage";

/** The pack's rules, importable without starting the policy server (index.ts does that). */
export const policies: Policies = [
  ossNoPublicAccess,
  ossEncrypted,
  searchDisksEncrypted,
  ramNoWildcardAdmin,
  noFullAccessOnWorkloadRole,
  searchNotPublic,
  sgNoOpenIngress,
  easVpcOnly,
  easNoPublicEndpoint,
  gpuSpotOutsideProd,
  protectStatefulProd,
  requiredTags,
  relevanceEnginesAgree,
  bm25WeightAdvisory,
  gpuBudgetAdvisory,
];
