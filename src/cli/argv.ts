/** The command named on the command line (after the program's own options: `--root <dir>`), if any. */
export function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--root') { i++; continue; }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}
