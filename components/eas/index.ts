export * from "./access";
export * from "./model-service";
export * from "./service-config";
