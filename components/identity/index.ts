export * from "./arns";
export * from "./deployer-policy";
export * from "./identity";
export * from "./policies";
export * from "./policy-document";
export * from "./trust";
export * from "./workload-identity";
