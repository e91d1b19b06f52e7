export * from "./layout";
export * from "./network";
export * from "./rules";
