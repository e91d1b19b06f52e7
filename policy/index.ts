import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// Constructing the pack starts its gRPC server: only `pulumi preview|up --policy-pack policy` loads
// this file. Tests import ./policies instead.
new PolicyPack("search-backbone", { policies });
