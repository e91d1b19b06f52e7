import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../stacks/config";
import { type Cidr, cidrContains, cidrsOverlap, isPrivate, parseCidr } from "../../stacks/config/cidr";
import { rawDevConfig } from "../helpers/config";

/**
 * Properties of the CIDR arithmetic and of the network layout rules that use it, for all inputs
 * fast-check draws. The expected values are computed another way than stacks/config/cidr.ts does
 * (bit prefixes instead of ranges), so a property cannot pass by repeating the code it tests.
 */

const SIZE = (prefix: number) => 2 ** (32 - prefix);
const text = (address: number, prefix: number) =>
  `${[24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".")}/${prefix}`;

/** An aligned IPv4 network: any address, host bits cleared. */
const network = (minPrefix = 0, maxPrefix = 32) =>
  fc
    .record({ address: fc.nat({ max: 2 ** 32 - 1 }), prefix: fc.integer({ min: minPrefix, max: maxPrefix }) })
    .map(({ address, prefix }) => ({ start: address - (address % SIZE(prefix)), prefix }));

/** The network's first `bits` address bits, as a number: equal for two addresses of one /bits network. */
const head = (address: number, bits: number) => Math.floor(address / SIZE(bits));

describe("parseCidr", () => {
  it("reads every aligned network back: its first and last address, its prefix, its text", () => {
    fc.assert(
      fc.property(network(), ({ start, prefix }) => {
        const written = text(start, prefix);
        expect(parseCidr(written)).toEqual({ text: written, start, end: start + SIZE(prefix) - 1, prefix });
      }),
    );
  });

  it("refuses a network with host bits set", () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 31 }), (address, prefix) => {
        fc.pre(address % SIZE(prefix) !== 0);
        expect(parseCidr(text(address, prefix))).toBeUndefined();
      }),
    );
  });

  it("refuses octets above 255, prefixes above 32 and anything not a.b.c.d/n", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(
        fc.tuple(octet, octet, octet),
        fc.integer({ min: 256, max: 999 }),
        fc.integer({ min: 0, max: 3 }),
        (others, big, at) => {
          const octets = [...others];
          octets.splice(at, 0, big);
          expect(parseCidr(`${octets.join(".")}/32`)).toBeUndefined();
        },
      ),
    );
    fc.assert(
      fc.property(fc.integer({ min: 33, max: 99 }), (prefix) => {
        expect(parseCidr(`0.0.0.0/${prefix}`)).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(fc.string(), (junk) => {
        fc.pre(!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(junk));
        expect(parseCidr(junk)).toBeUndefined();
      }),
    );
  });
});

describe("containment and overlap of aligned networks", () => {
  const aligned = (address: number, prefix: number) => ({ start: address - (address % SIZE(prefix)), prefix });
  // Half the pairs are unrelated; the other half share an address (the first, the last or any of
  // the first network's), where containment and the edges of overlap are decided.
  const related = fc
    .record({
      a: network(),
      prefix: fc.integer({ min: 0, max: 32 }),
      at: fc.oneof(fc.constant("first"), fc.constant("last"), fc.nat()),
    })
    .map(({ a, prefix, at }) => {
      const size = SIZE(a.prefix);
      const address = a.start + (at === "first" ? 0 : at === "last" ? size - 1 : (at as number) % size);
      return [a, aligned(address, prefix)] as const;
    });
  const pair = fc
    .oneof(fc.tuple(network(), network()), related)
    .map(([a, b]) => [parseCidr(text(a.start, a.prefix)) as Cidr, parseCidr(text(b.start, b.prefix)) as Cidr]);

  it("contains exactly the longer prefixes that share the outer network's leading bits", () => {
    fc.assert(
      fc.property(pair, ([outer, inner]) => {
        const expected =
          inner!.prefix >= outer!.prefix && head(inner!.start, outer!.prefix) === head(outer!.start, outer!.prefix);
        expect(cidrContains(outer!, inner!)).toBe(expected);
      }),
    );
  });

  it("never half-overlaps: two aligned networks overlap only when one holds the other", () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(cidrsOverlap(a!, b!)).toBe(cidrsOverlap(b!, a!));
        expect(cidrsOverlap(a!, b!)).toBe(cidrContains(a!, b!) || cidrContains(b!, a!));
      }),
    );
  });

  it("sees every network inside its parents, and its halves apart from each other", () => {
    fc.assert(
      fc.property(network(1, 32), ({ start, prefix }) => {
        const child = parseCidr(text(start, prefix)) as Cidr;
        const parentPrefix = prefix - 1;
        const parent = parseCidr(text(start - (start % SIZE(parentPrefix)), parentPrefix)) as Cidr;
        expect(cidrContains(parent, child)).toBe(true);
        expect(cidrContains(child, parent)).toBe(false);
        const sibling = parseCidr(text(siblingOf(start, prefix), prefix)) as Cidr;
        expect(cidrsOverlap(child, sibling)).toBe(false);
        expect(cidrContains(parent, sibling)).toBe(true);
      }),
    );
  });

  it("calls private exactly the networks inside 10/8, 172.16/12 and 192.168/16", () => {
    const ranges = [
      { start: dotted(10, 0), bits: 8 },
      { start: dotted(172, 16), bits: 12 },
      { start: dotted(192, 168), bits: 16 },
    ];
    // Half of the draws start inside one of the ranges, at any prefix, so both answers are exercised.
    const nearPrivate = fc
      .record({ range: fc.constantFrom(...ranges), offset: fc.nat(), prefix: fc.integer({ min: 0, max: 32 }) })
      .map(({ range, offset, prefix }) => {
        const address = range.start + (offset % SIZE(range.bits));
        return { start: address - (address % SIZE(prefix)), prefix };
      });
    fc.assert(
      fc.property(fc.oneof(network(), nearPrivate), ({ start, prefix }) => {
        const inside = ranges.some((r) => prefix >= r.bits && head(start, r.bits) === head(r.start, r.bits));
        expect(isPrivate(parseCidr(text(start, prefix)) as Cidr)).toBe(inside);
      }),
    );
  });
});

/** The other half of the network's parent. */
function siblingOf(start: number, prefix: number): number {
  const size = SIZE(prefix);
  return Math.floor(start / size) % 2 === 0 ? start + size : start - size;
}

/** a.b.0.0 as a number. */
const dotted = (a: number, b: number) => (a * 256 + b) * 65_536;

// ---------------------------------------------------------------------------------------------
// The layout rules, through loadConfig as a stack's config reaches them.

const ZONES = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"];

interface Layout {
  readonly vpc: { start: number; prefix: number };
  readonly subnets: { start: number; prefix: number }[];
  readonly zones: string[];
  /** The prefix length drawn for each subnet. */
  readonly requested: number[];
}

/**
 * Places subnets of the drawn sizes inside the VPC, buddy-style: each takes a free block of at
 * least its size (which one, and which half at each split, from `choices`) and frees the rest.
 * Largest first, and at most 8 subnets of at most 1/8 of the VPC each, so every request fits.
 */
function place(vpc: { start: number; prefix: number }, prefixes: number[], choices: number[]) {
  const free = [{ ...vpc }];
  const placed: { start: number; prefix: number }[] = [];
  let k = 0;
  const choose = (n: number) => (choices[k++ % choices.length] as number) % n;
  const order = prefixes.map((prefix, i) => ({ prefix, i })).sort((a, b) => a.prefix - b.prefix);
  for (const { prefix, i } of order) {
    const fitting = free.filter((block) => block.prefix <= prefix);
    let block = fitting[choose(fitting.length)] as { start: number; prefix: number };
    free.splice(free.indexOf(block), 1);
    while (block.prefix < prefix) {
      const half = SIZE(block.prefix + 1);
      const low = { start: block.start, prefix: block.prefix + 1 };
      const high = { start: block.start + half, prefix: block.prefix + 1 };
      const keepLow = choose(2) === 0;
      free.push(keepLow ? high : low);
      block = keepLow ? low : high;
    }
    placed[i] = block;
  }
  return placed;
}

/** A valid layout: a private VPC (in 10/8 or 192.168/16, apart from the default pod and service ranges). */
const layout: fc.Arbitrary<Layout> = fc
  .record({
    base: fc.constantFrom({ start: dotted(10, 0), bits: 8 }, { start: dotted(192, 168), bits: 16 }),
    offset: fc.nat(),
    vpcPrefix: fc.integer({ min: 16, max: 24 }),
    count: fc.integer({ min: 2, max: 8 }),
    extra: fc.array(fc.integer({ min: 3, max: 8 }), { minLength: 8, maxLength: 8 }),
    choices: fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
    zoneOf: fc.array(fc.integer({ min: 0, max: ZONES.length - 1 }), { minLength: 8, maxLength: 8 }),
  })
  .map(({ base, offset, vpcPrefix, count, extra, choices, zoneOf }) => {
    const slots = SIZE(base.bits) / SIZE(vpcPrefix);
    const vpc = { start: base.start + (offset % slots) * SIZE(vpcPrefix), prefix: vpcPrefix };
    // vSwitches are /29 at the smallest on Alibaba Cloud; keep the drawn sizes within that.
    const prefixes = extra.slice(0, count).map((more) => Math.min(vpcPrefix + more, 29));
    const zones = zoneOf.slice(0, count).map((z) => ZONES[z] as string);
    // At least two zones, as a dev stack requires.
    if (new Set(zones).size < 2) zones[1] = ZONES[(ZONES.indexOf(zones[0] as string) + 1) % ZONES.length] as string;
    return { vpc, subnets: place(vpc, prefixes, choices), zones, requested: prefixes };
  });

function rawFor({ vpc, subnets, zones }: Layout): Record<string, any> {
  const raw = rawDevConfig();
  raw.network.vpcCidr = text(vpc.start, vpc.prefix);
  raw.network.vswitches = subnets.map((s, i) => ({ zone: zones[i], cidr: text(s.start, s.prefix) }));
  return raw;
}

/** The problems loadConfig reports for `raw`, as path and message; none when it loads. */
function problemsOf(raw: Record<string, any>): { path: string; message: string }[] {
  try {
    loadConfig(raw, { project: "search-backbone", stack: "dev" });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => ({ path: p.path.join("."), message: p.message }));
  }
}

describe("network layout rules (stacks/config/rules.ts) for every drawn layout", () => {
  it("the generator itself: subnets lie inside the VPC, aligned, of the drawn sizes, pairwise apart", () => {
    fc.assert(
      fc.property(layout, ({ vpc, subnets, requested }) => {
        const outer = parseCidr(text(vpc.start, vpc.prefix)) as Cidr;
        const cidrs = subnets.map((s) => parseCidr(text(s.start, s.prefix)));
        for (const cidr of cidrs) {
          expect(cidr).toBeDefined();
          expect(cidrContains(outer, cidr as Cidr)).toBe(true);
        }
        for (const [i, a] of cidrs.entries()) {
          expect(a?.prefix).toBe(requested[i]);
          for (const b of cidrs.slice(0, i)) expect(cidrsOverlap(a as Cidr, b as Cidr)).toBe(false);
        }
      }),
    );
  });

  it("accepts every layout of disjoint aligned subnets inside a private VPC over two zones or more, as given", () => {
    fc.assert(
      fc.property(layout, (drawn) => {
        const raw = rawFor(drawn);
        expect(problemsOf(raw)).toEqual([]);
        const cfg = loadConfig(raw, { project: "search-backbone", stack: "dev" });
        expect(cfg.network.vpcCidr).toBe(raw.network.vpcCidr);
        expect(cfg.network.vswitches).toEqual(raw.network.vswitches);
      }),
      { numRuns: 60 },
    );
  });

  it("refuses a subnet that overlaps an earlier one, naming both", () => {
    fc.assert(
      fc.property(layout, fc.nat(), fc.boolean(), (drawn, pick, wider) => {
        const i = 1 + (pick % (drawn.subnets.length - 1));
        const j = pick % i;
        const other = drawn.subnets[j] as { start: number; prefix: number };
        // Either the earlier subnet itself, or a network that holds it (still inside the VPC).
        const prefix = wider ? Math.max(drawn.vpc.prefix, other.prefix - 1) : other.prefix;
        const clash = { start: other.start - (other.start % SIZE(prefix)), prefix };
        const subnets = drawn.subnets.map((s, k) => (k === i ? clash : s));
        const problems = problemsOf(rawFor({ ...drawn, subnets })).filter(
          (p) => p.path === `network.vswitches.${i}.cidr`,
        );
        expect(problems).toContainEqual({
          path: `network.vswitches.${i}.cidr`,
          message: `expected no overlap, but it overlaps vswitches[${j}] (${text(other.start, other.prefix)})`,
        });
      }),
      { numRuns: 60 },
    );
  });

  it("refuses a subnet outside the VPC, naming the VPC", () => {
    fc.assert(
      fc.property(layout, fc.nat(), (drawn, pick) => {
        const i = pick % drawn.subnets.length;
        // The VPC's neighbour of the same size: inside 10/8 or 192.168/16 as well, never inside the VPC.
        const neighbour = siblingOf(drawn.vpc.start, drawn.vpc.prefix);
        const moved = { start: neighbour, prefix: Math.max(drawn.vpc.prefix, 24) };
        const subnets = drawn.subnets.map((s, k) => (k === i ? moved : s));
        expect(problemsOf(rawFor({ ...drawn, subnets }))).toEqual([
          {
            path: `network.vswitches.${i}.cidr`,
            message: `expected a subnet inside the VPC ${text(drawn.vpc.start, drawn.vpc.prefix)}`,
          },
        ]);
      }),
      { numRuns: 60 },
    );
  });

  it("refuses a subnet with host bits set, and a zone of another region, each by its key", () => {
    fc.assert(
      fc.property(layout, fc.nat(), fc.nat(), (drawn, pick, offset) => {
        const i = pick % drawn.subnets.length;
        const subnet = drawn.subnets[i] as { start: number; prefix: number };
        const host = 1 + (offset % (SIZE(subnet.prefix) - 1));
        const raw = rawFor(drawn);
        raw.network.vswitches[i].cidr = text(subnet.start + host, subnet.prefix);
        raw.network.vswitches[i].zone = "cn-shanghai-l";
        expect(problemsOf(raw)).toEqual([
          {
            path: `network.vswitches.${i}.cidr`,
            message: "expected an IPv4 network in CIDR form with no host bits set, like 10.0.0.0/16",
          },
          { path: `network.vswitches.${i}.zone`, message: "expected a zone of region cn-hangzhou" },
        ]);
      }),
      { numRuns: 60 },
    );
  });
});
