import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import {
  enterpriseRegistryHost,
  personalRegistryHost,
  Registry,
  type RegistryArgs,
  registryHost,
  registryNamespaceUrl,
} from "../../components/registry";
import type { BackboneConfig } from "../../stacks/config";
import { devConfig, prodConfig } from "../helpers/config";
import { type MockRecorder, resolved, settle, setupMocks } from "../helpers/mocks";

const NAMESPACE = "alicloud:cr/namespace:Namespace";
const REPO = "alicloud:cr/repo:Repo";
const EE = "alicloud:cr/registryEnterpriseInstance:RegistryEnterpriseInstance";
const EE_NAMESPACE = "alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace";
const EE_REPO = "alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo";
const VPC_LINK = "alicloud:cr/vpcEndpointLinkedVpc:VpcEndpointLinkedVpc";

const eeEndpoints = (instanceName: string) => [
  {
    endpointType: "internet",
    enable: false,
    domains: [{ domain: `${instanceName}-registry.cn-hangzhou.cr.aliyuncs.com`, type: "SYSTEM" }],
  },
  {
    endpointType: "vpc",
    enable: true,
    domains: [
      { domain: "registry.example.com", type: "USER" },
      { domain: `${instanceName}-registry-vpc.cn-hangzhou.cr.aliyuncs.com`, type: "SYSTEM" },
    ],
  },
];

describe("registry host selection (pure)", () => {
  it("prefers the SYSTEM domain of the requested endpoint type", () => {
    expect(enterpriseRegistryHost(eeEndpoints("acme"), "acme", "cn-hangzhou", "vpc")).toBe(
      "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
    );
    expect(enterpriseRegistryHost(eeEndpoints("acme"), "acme", "cn-hangzhou", "internet")).toBe(
      "acme-registry.cn-hangzhou.cr.aliyuncs.com",
    );
  });

  it("falls back to the documented domain pattern when the API lists none", () => {
    expect(enterpriseRegistryHost(undefined, "acme-prod", "cn-shanghai", "vpc")).toBe(
      "acme-prod-registry-vpc.cn-shanghai.cr.aliyuncs.com",
    );
  });

  it("uses the personal edition's VPC domain, derived from the public one if needed", () => {
    expect(
      personalRegistryHost({
        vpc: "registry-vpc.cn-hangzhou.aliyuncs.com",
        public: "registry.cn-hangzhou.aliyuncs.com",
      }),
    ).toBe("registry-vpc.cn-hangzhou.aliyuncs.com");
    expect(personalRegistryHost({ public: "registry.cn-beijing.aliyuncs.com" })).toBe(
      "registry-vpc.cn-beijing.aliyuncs.com",
    );
    expect(() => personalRegistryHost(undefined)).toThrow(/no endpoint/);
  });

  it("splits an image reference into the push host and the namespace", () => {
    const reference = "registry.cn-hangzhou.aliyuncs.com/acme/orchestrator";
    expect(registryHost(reference)).toBe("registry.cn-hangzhou.aliyuncs.com");
    expect(registryNamespaceUrl(reference)).toBe("registry.cn-hangzhou.aliyuncs.com/acme");
    expect(() => registryHost("orchestrator")).toThrow(
      'registry: given "orchestrator"; expected host/namespace/repository',
    );
    expect(() => registryNamespaceUrl("host/orchestrator")).toThrow(
      'registry: given "host/orchestrator"; expected host/namespace/repository',
    );
  });
});

let mocks: MockRecorder;
beforeEach(async () => {
  mocks = await setupMocks({
    outputs: {
      [REPO]: () => ({
        domainList: {
          public: "registry.cn-hangzhou.aliyuncs.com",
          internal: "registry-internal.cn-hangzhou.aliyuncs.com",
          vpc: "registry-vpc.cn-hangzhou.aliyuncs.com",
        },
      }),
      [EE]: (a) => ({ regionId: "cn-hangzhou", instanceEndpoints: eeEndpoints(a.inputs.instanceName) }),
    },
  });
});

function registry(name: string, config: BackboneConfig, network: Partial<RegistryArgs> = {}): Registry {
  return new Registry(name, {
    cloudName: `acme-${config.environment}`,
    settings: config.registry,
    tags: { stack: config.environment },
    protect: config.environment === "prod",
    ...network,
  });
}

describe("Registry, personal edition (dev)", () => {
  it("creates a private namespace without auto-created repositories and a private repository", async () => {
    const r = registry("personal", devConfig());
    const url = await resolved(r.repositoryUrl);
    await settle();

    expect(mocks.one(NAMESPACE).inputs).toEqual({
      name: "search-backbone",
      autoCreate: false,
      defaultVisibility: "PRIVATE",
    });
    expect(mocks.one(REPO).inputs).toMatchObject({
      namespace: "search-backbone",
      name: "orchestrator",
      repoType: "PRIVATE",
    });
    expect(url).toBe("registry-vpc.cn-hangzhou.aliyuncs.com/search-backbone/orchestrator");
    expect(await resolved(r.namespaceUrl)).toBe("registry-vpc.cn-hangzhou.aliyuncs.com/search-backbone");
    expect(r.push).toBeUndefined();
    expect(await resolved(r.namespace)).toBe("search-backbone");
    expect(await resolved(r.repository)).toBe("orchestrator");
    expect([EE, EE_NAMESPACE, EE_REPO, VPC_LINK].flatMap((t) => mocks.ofType(t))).toEqual([]);
    for (const child of [mocks.one(NAMESPACE), mocks.one(REPO)]) {
      expect(child.parent).toBe(mocks.one("backbone:registry:Registry").urn);
      expect(child.protect).toBe(false);
    }
  });
});

describe("Registry, enterprise edition (prod)", () => {
  it("creates a protected subscription instance with a private namespace and an immutable private repository", async () => {
    const r = registry("ee", prodConfig(), { vpcId: pulumi.output("vpc-1"), vswitchId: "vsw-1" });
    const url = await resolved(r.repositoryUrl);
    await settle();

    const instance = mocks.one(EE);
    expect(instance.inputs).toMatchObject({
      instanceName: "acme-prod",
      instanceType: "Basic",
      paymentType: "Subscription",
    });
    expect(instance.protect).toBe(true);
    expect(instance.retainOnDelete).toBe(true);
    const instanceId = await resolved(r.instanceId);
    expect(mocks.one(EE_NAMESPACE).inputs).toMatchObject({
      instanceId,
      autoCreate: false,
      defaultVisibility: "PRIVATE",
    });
    expect(mocks.one(EE_REPO).inputs).toMatchObject({ instanceId, repoType: "PRIVATE", tagImmutability: true });
    for (const type of [EE_NAMESPACE, EE_REPO, VPC_LINK]) expect(mocks.one(type).protect).toBe(true);
    expect([NAMESPACE, REPO].flatMap((t) => mocks.ofType(t))).toEqual([]);

    expect(mocks.one(VPC_LINK).inputs).toMatchObject({
      instanceId,
      vpcId: "vpc-1",
      vswitchId: "vsw-1",
      moduleName: "Registry",
    });
    expect(url).toBe("acme-prod-registry-vpc.cn-hangzhou.cr.aliyuncs.com/search-backbone/orchestrator");
  });

  it("falls back to the Internet endpoint when no VPC is given", async () => {
    const r = registry("ee-public", prodConfig());
    const url = await resolved(r.repositoryUrl);
    await settle();
    expect(mocks.ofType(VPC_LINK)).toEqual([]);
    expect(url).toBe("acme-prod-registry.cn-hangzhou.cr.aliyuncs.com/search-backbone/orchestrator");
  });
});

describe("Registry push outputs", () => {
  it("personal edition: the Internet host and the configured credentials, the password secret", async () => {
    const r = registry("personal", devConfig(), {
      push: { pushEndpoint: "internet", username: "pusher", password: "Passw0rd-1" },
    });
    const push = r.push;
    if (!push) throw new Error("expected push outputs");
    expect(await resolved(push.repositoryUrl)).toBe("registry.cn-hangzhou.aliyuncs.com/search-backbone/orchestrator");
    expect(await resolved(push.server)).toBe("registry.cn-hangzhou.aliyuncs.com");
    expect(await resolved(push.username)).toBe("pusher");
    expect(await pulumi.isSecret(push.password)).toBe(true);
    expect(await resolved(push.password)).toBe("Passw0rd-1");
    await settle();
    expect(mocks.invokes).toEqual([]);
  });

  it("a runner inside the VPC pushes to the VPC host", async () => {
    const r = registry("personal", devConfig(), {
      push: { pushEndpoint: "vpc", username: "pusher", password: "Passw0rd-1" },
    });
    expect(await resolved(r.push!.server)).toBe("registry-vpc.cn-hangzhou.aliyuncs.com");
    await settle();
  });

  it("enterprise edition without credentials: a temporary token for the instance (GetAuthorizationToken)", async () => {
    const r = registry("ee", prodConfig(), { push: { pushEndpoint: "internet" } });
    const push = r.push!;
    expect(await resolved(push.server)).toBe("acme-prod-registry.cn-hangzhou.cr.aliyuncs.com");
    expect(await resolved(push.username)).toBe("cr_temp_user");
    expect(await pulumi.isSecret(push.password)).toBe(true);
    expect(await resolved(push.password)).toBe("temporary-registry-token");
    await settle();
    const instanceId = await resolved(r.instanceId);
    expect(mocks.invokes).toEqual([
      {
        token: "alicloud:cs/getRegistryEnterpriseInstances:getRegistryEnterpriseInstances",
        inputs: expect.objectContaining({ ids: [instanceId], enableDetails: true }),
      },
    ]);
  });

  it("personal edition without a password stops before any child is registered", async () => {
    expect(() => registry("personal", devConfig(), { push: { pushEndpoint: "internet", username: "pusher" } })).toThrow(
      "push.password: not set; expected push credentials on the personal edition",
    );
    await settle();
    expect(mocks.resources.filter((r) => r.custom)).toEqual([]);
  });
});
