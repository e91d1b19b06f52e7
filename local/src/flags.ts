/**
 * The command-line walk shared by `npm start` (args.ts) and `npm run loop` (loop/args.ts): each
 * argument as `--flag value` or `--flag=value`. `value()` takes the flag's value (the inline one, or
 * the next argument, which it consumes); each parser checks flags and values and names its own errors.
 */
export function eachFlag(
  argv: readonly string[],
  on: (flag: string, arg: string, value: () => string | undefined, inline: string | undefined) => void,
): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    on(flag as string, arg, () => (inline !== undefined ? inline : argv[++i]), inline);
  }
}
