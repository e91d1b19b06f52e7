import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { attributed } from "../../components/errors";
import { Network } from "../../components/network";
import { personalRegistryHost } from "../../components/registry";
import { setupMocks } from "../helpers/mocks";

/** Errors inside components name the component, in constructors and inside `apply`, as pulumi-eks does. */
describe("errors raised inside components", () => {
  // ResourceError only keeps the resource; a stand-in keeps these tests off the Pulumi runtime.
  const owner = { name: "owner" } as unknown as pulumi.Resource;

  it("attributed() re-raises a plain error as a ResourceError on the given resource, keeping the message", async () => {
    let caught: unknown;
    try {
      attributed(owner, () => {
        throw new Error("expected a numeric account id");
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(pulumi.ResourceError);
    expect((caught as pulumi.ResourceError).message).toBe("expected a numeric account id");
    expect((caught as pulumi.ResourceError).resource).toBe(owner);
    expect(attributed(owner, () => 42)).toBe(42);
  });

  it("a bad value in a constructor fails the Network component with a ResourceError on it", async () => {
    await setupMocks();
    const build = () =>
      new Network("network", {
        cloudName: "acme-dev",
        vpcCidr: "10.20.0.0/16",
        vswitches: [
          { zone: "cn-hangzhou-i", cidr: "10.20.0.0/20" },
          { zone: "cn-hangzhou-j", cidr: "10.20.16.0/20" },
        ],
        nat: { enabled: true, bandwidthMbps: 900 },
        publicIngressCidrs: [],
        tags: {},
      });
    expect(build).toThrow(pulumi.ResourceError);
    expect(build).toThrow(/NAT bandwidth 900 Mbit\/s/);
  });

  it("inside apply, the output rejects with a ResourceError on the component, not a bare Error", async () => {
    // What Registry's apply does with the endpoints ACR reports; a plain promise stands in for the
    // output, because a rejected output under mocks is reported as an unhandled program error.
    const failure = await Promise.resolve({})
      .then((domains) => attributed(owner, () => personalRegistryHost(domains)))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(pulumi.ResourceError);
    expect((failure as pulumi.ResourceError).resource).toBe(owner);
    expect((failure as Error).message).toMatch(/registry: the repository reported no endpoint/);
  });
});
