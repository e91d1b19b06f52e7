export * from "./fleet";
export * from "./serving";
export * from "./user-data";
