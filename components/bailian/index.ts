export * from "./bailian";
export * from "./deployment";
