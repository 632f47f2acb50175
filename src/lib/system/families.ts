/**
 * Requirements of one stage rather than of the machine: a family named `<prefix><argument>`
 * (e.g. `python:scripts/train.py`, the interpreter and imported modules of one Python stage),
 * made on demand by the kind module that registers it. Kept apart from requirements.ts so that a
 * kind registering a family does not pull the machine checks (and their native libraries) into
 * its code closure.
 */
export interface FamilyRequirement {
  name: string;
  title: string;
  optional?: boolean;
  check(): Promise<{ status: 'ok' | 'missing' | 'degraded' | 'absent'; detail: string; fix?: string }>;
}

const families: { prefix: string; make: (arg: string, name: string) => FamilyRequirement }[] = [];

export function addRequirementFamily(prefix: string, make: (arg: string, name: string) => FamilyRequirement): void {
  if (!families.some((f) => f.prefix === prefix)) families.push({ prefix, make });
}

export function familyRequirement(name: string): FamilyRequirement | undefined {
  const fam = families.find((f) => name.startsWith(f.prefix));
  return fam?.make(name.slice(fam.prefix.length), name);
}

let root = process.env.PIPE_ROOT ?? process.cwd();
/** The project root project-specific checks look at (set by the CLI from the workspace). */
export function useRequirementRoot(dir: string): void { root = dir; }
export function requirementRoot(): string { return root; }
