import * as pulumi from "@pulumi/pulumi";
import { type MockOptions, type MockRecorder, settle, setupMocks } from "./mocks";
import { engineConfigFor } from "./stack-files";

export interface ProgramRun {
  readonly recorder: MockRecorder;
  /** The stack's outputs; undefined when the program threw. */
  readonly outputs: any;
  /** What the program threw (a ConfigError for a bad stack file), if anything. */
  readonly error: unknown;
}

/** Runs the project's program under the mock runtime with a stack file's config, as `pulumi up` would. */
export async function runProgram(
  stack: string,
  text: string,
  mockOutputs?: MockOptions["outputs"],
): Promise<ProgramRun> {
  const recorder = await setupMocks({ stack, ...(mockOutputs ? { outputs: mockOutputs } : {}) });
  pulumi.runtime.setAllConfig(engineConfigFor(text));
  const { runStack } = await import("../../stacks/index.js");
  let outputs: any;
  let error: unknown;
  try {
    outputs = runStack();
  } catch (caught) {
    error = caught;
  }
  await settle();
  return { recorder, outputs, error };
}
