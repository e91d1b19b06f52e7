export * from "./deployment";
export * from "./bailian";
