export * from "./cluster";
export * from "./settings";
