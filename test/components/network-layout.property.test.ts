import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EIP_MAX_MBPS, eipBilling, type VSwitchSpec, vswitchKeys } from "../../components/network/layout";

/** Properties of the network's naming and sizing decisions (components/network/layout.ts). */

const zone = fc.constantFrom("cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k");
const vswitch = zone.map((z): VSwitchSpec => ({ zone: z, cidr: "10.0.0.0/24" }));
const vswitches = fc.array(vswitch, { maxLength: 12 });

describe("vswitchKeys", () => {
  it("gives one distinct key per vSwitch: the zone, then -2, -3, … in list order within the zone", () => {
    fc.assert(
      fc.property(vswitches, (list) => {
        const keys = vswitchKeys(list);
        expect(keys).toHaveLength(list.length);
        expect(new Set(keys).size).toBe(keys.length);
        list.forEach((sw, i) => {
          const nth = list.slice(0, i + 1).filter((other) => other.zone === sw.zone).length;
          expect(keys[i]).toBe(nth === 1 ? sw.zone : `${sw.zone}-${nth}`);
        });
      }),
    );
  });

  it("keeps every existing key when a vSwitch of another zone is inserted anywhere", () => {
    fc.assert(
      fc.property(vswitches, fc.nat(), (list, at) => {
        const used = new Set(list.map((sw) => sw.zone));
        const fresh: VSwitchSpec = { zone: `cn-hangzhou-z${used.size}`, cidr: "10.0.1.0/24" };
        const position = at % (list.length + 1);
        const grown = [...list.slice(0, position), fresh, ...list.slice(position)];
        const keys = vswitchKeys(grown);
        expect([...keys.slice(0, position), ...keys.slice(position + 1)]).toEqual(vswitchKeys(list));
        expect(keys[position]).toBe(fresh.zone);
      }),
    );
  });

  it("keeps every existing key when any vSwitch is appended", () => {
    fc.assert(
      fc.property(vswitches, vswitch, (list, added) => {
        expect(vswitchKeys([...list, added]).slice(0, list.length)).toEqual(vswitchKeys(list));
      }),
    );
  });
});

describe("eipBilling", () => {
  it("pays by traffic up to 200 Mbit/s and by bandwidth above, passing the bandwidth as text", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: EIP_MAX_MBPS.PayByBandwidth }), (mbps) => {
        expect(eipBilling(mbps)).toEqual({
          internetChargeType: mbps <= EIP_MAX_MBPS.PayByTraffic ? "PayByTraffic" : "PayByBandwidth",
          bandwidth: String(mbps),
        });
      }),
    );
  });

  it("refuses anything but a whole number from 1 to 500, naming the value", () => {
    const invalid = fc.oneof(
      fc.integer({ max: 0 }),
      fc.integer({ min: EIP_MAX_MBPS.PayByBandwidth + 1 }),
      fc.double({ noNaN: false }).filter((x) => !Number.isInteger(x)),
    );
    fc.assert(
      fc.property(invalid, (mbps) => {
        expect(() => eipBilling(mbps)).toThrow(
          `NAT bandwidth ${mbps} Mbit/s: a pay-as-you-go EIP takes a whole number from 1 to 500`,
        );
      }),
    );
  });
});
