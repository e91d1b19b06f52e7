import { runStack } from "./stacks";

// Stack outputs: see BackboneOutputs in stacks/backbone.ts.
export = runStack();
