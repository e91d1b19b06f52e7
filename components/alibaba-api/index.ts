export * from "./openapi";
