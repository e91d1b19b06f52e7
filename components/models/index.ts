export * from "./endpoints";
export * from "./models";
export * from "./packages";
