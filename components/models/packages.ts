/** What the TorchServe handlers import on the serving hosts besides TorchServe itself. */
const HANDLER_IMPORTS = ["torch", "transformers", "sentence-transformers", "tokenizers"] as const;

/**
 * The serving hosts' pip pins, taken from models/requirements.txt so hosts run exactly the versions
 * the handlers were tested with. Pure: tested directly.
 */
export function servingPackages(requirements: string): string[] {
  const pins = new Map(
    requirements
      .split("\n")
      .map((line) => line.replace(/#.*/, "").trim())
      .map((line) => line.split("==") as [string, string?])
      .filter((pair): pair is [string, string] => pair.length === 2 && pair[1] !== undefined),
  );
  return HANDLER_IMPORTS.map((name) => {
    const version = pins.get(name);
    if (!version) throw new Error(`models/requirements.txt does not pin ${name}==<version>`);
    return `${name}==${version}`;
  });
}
