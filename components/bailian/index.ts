export * from "./bailian";
export * from "./chat-model";
export * from "./deployment";
export * from "./fine-tune";
