export * from "./airec-api";
export * from "./airec-instance";
export * from "./recommendations";
