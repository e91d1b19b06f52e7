import { createRequire } from "node:module";
import type * as Exposure from "search-backbone-policy/exposure";

/**
 * The policy pack's exposure rules (policy/exposure.ts, by its package name). policy/ is a CommonJS package for the policy
 * host (ts-node); `require` loads its ES-syntax module through Node's type stripping without the
 * warning an `import` across that package boundary prints (MODULE_TYPELESS_PACKAGE_JSON).
 */
export const exposure: typeof Exposure = createRequire(import.meta.url)("search-backbone-policy/exposure");
export type { ExposureChange, ExposureContext } from "search-backbone-policy/exposure";
