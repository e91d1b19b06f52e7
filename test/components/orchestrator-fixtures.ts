import type { OrchestratorSettings } from "../../components/orchestrator";

export const SETTINGS: OrchestratorSettings = {
  replicas: { min: 2, max: 6 },
  resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "1Gi" } },
  targetCpuUtilization: 70,
  chatModel: "qwen-plus",
  dashscopeBaseUrl: "https://dashscope.aliyuncs.com/compatible-mode/v1",
  rateLimitPerMinute: 600,
  logLevel: "info",
  shutdownGraceMs: 10000,
  chatLog: true,
  ingress: { enabled: false },
};
