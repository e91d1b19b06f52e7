/**
 * Labels for every namespace the stack creates: Pod Security Admission enforces the `restricted`
 * profile there (https://kubernetes.io/docs/concepts/security/pod-security-standards/), and also
 * warns and audits with it, so a Deployment or Job whose pod template would be refused is reported when
 * it is applied, not only when its controller's Pods are refused later.
 */
export const RESTRICTED_NAMESPACE_LABELS = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/warn": "restricted",
  "pod-security.kubernetes.io/audit": "restricted",
} as const;
