export * from "./bucket";
export * from "./layout";
export * from "./settings";
export * from "./storage";
