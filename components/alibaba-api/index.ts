export * from "./checks";
export * from "./context";
export * from "./failure";
export * from "./openapi";
export * from "./poll";
