// Run configurations: every option of a stage is declared once, as a field with its type, default,
// bounds, help and value placeholder. From that one declaration come the JSON config file reader,
// the command-line flags (kebab-case of the field name; src/cli turns them into the CLI library's
// options) and their --help text, the validation messages, and the resolved config that each run
// writes to its metadata. Precedence: defaults < JSON file < flags.
// Every choice a method leaves open is a field, so every run records how it was made.
import { existsSync, readFileSync } from 'node:fs';

/** A configuration error: the message names the file or flag, the field and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The value types a field may hold. */
export type FieldValue = string | number | boolean | null | readonly string[];

interface FieldBase<T> {
  help: string;
  /** undefined: required (the run fails without it). */
  default: T | undefined;
  /** When true, null is allowed (and means what `help` says). */
  nullable?: boolean;
  /** The value's placeholder in --help (DIR, FILE, ...); by default one named after the kind. */
  arg?: string;
}

/** One option of a stage. */
export type Field =
  | (FieldBase<string | null> & { kind: 'string' })
  | (FieldBase<number | null> & { kind: 'int' | 'number'; min?: number; max?: number; above?: number })
  | (FieldBase<boolean> & { kind: 'bool' })
  | (FieldBase<string | null> & { kind: 'enum'; values: readonly string[] })
  | (FieldBase<readonly string[]> & { kind: 'list' })
  | (FieldBase<string | number> & { kind: 'numberOrEnum'; values: readonly string[]; above?: number });

/** A stage's fields by name. */
export type Schema = Record<string, Field>;

/** A resolved configuration: every field of the schema with its final value. */
export type Resolved = Record<string, FieldValue>;

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** What a field accepts, in words (for --help and error messages). */
export function describeKind(f: Field): string {
  switch (f.kind) {
    case 'string': return 'a string';
    case 'bool': return 'true or false';
    case 'list': return 'a list of strings (comma-separated on the command line)';
    case 'enum': return `one of ${f.values.join(', ')}`;
    case 'numberOrEnum': return `${f.values.join(' or ')} or a number${f.above !== undefined ? ` > ${f.above}` : ''}`;
    default: {
      const bounds = [
        f.min !== undefined ? `>= ${f.min}` : '',
        f.above !== undefined ? `> ${f.above}` : '',
        f.max !== undefined ? `<= ${f.max}` : '',
      ].filter(Boolean).join(' and ');
      return `${f.kind === 'int' ? 'an integer' : 'a number'}${bounds ? ` ${bounds}` : ''}`;
    }
  }
}

/** A rejected value as the user wrote it; a number too large for a double says so (JSON has no Infinity). */
function shown(v: unknown, raw: string | undefined): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return `${raw ?? 'a number'} (too large: it overflows a 64-bit float to ${v})`;
  return raw ?? JSON.stringify(v);
}

/**
 * Checks one value (from JSON, or already converted from a flag, `raw` being what was typed);
 * returns it or throws naming `where`.
 */
function checkValue(name: string, f: Field, v: unknown, where: string, raw?: string): FieldValue {
  const bad = (): never => {
    throw new ConfigError(`${where}: '${name}' must be ${describeKind(f)}${f.nullable ? ' or null' : ''}, got ${shown(v, raw)}`);
  };
  if (v === null) return f.nullable ? null : bad();
  switch (f.kind) {
    case 'string':
      return typeof v === 'string' && v !== '' ? v : bad();
    case 'bool':
      return typeof v === 'boolean' ? v : bad();
    case 'enum':
      return typeof v === 'string' && f.values.includes(v) ? v : bad();
    case 'list':
      return Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s !== '') ? [...v] as string[] : bad();
    case 'numberOrEnum':
      if (typeof v === 'string') return f.values.includes(v) ? v : bad();
      return typeof v === 'number' && Number.isFinite(v) && (f.above === undefined || v > f.above) ? v : bad();
    default: {
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad();
      if (f.kind === 'int' && !Number.isInteger(v)) return bad();
      if ((f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max) || (f.above !== undefined && v <= f.above)) return bad();
      return v;
    }
  }
}

/** Converts a command-line string to the field's JSON type (then checked like JSON). */
function fromFlag(f: Field, raw: string | boolean): unknown {
  const s = String(raw);
  if (f.kind === 'bool') return s === 'true' ? true : s === 'false' ? false : s;
  if (f.nullable && s === 'null') return null;
  switch (f.kind) {
    case 'list':
      return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
    case 'int':
    case 'number':
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) ? Number(s) : s;
    case 'numberOrEnum':
      return f.values.includes(s) ? s : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) ? Number(s) : s;
    default:
      return s;
  }
}

/** The nearest field name (for "did you mean"), by edit distance. */
function nearest(name: string, names: readonly string[]): string | null {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
    }
    return d[a.length]![b.length]!;
  };
  let best: string | null = null, bestD = Infinity;
  for (const n of names) {
    const dd = dist(name.toLowerCase(), n.toLowerCase());
    if (dd < bestD) { bestD = dd; best = n; }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

/** Reads a JSON config file: an object whose keys are field names of `schema`. */
export function readConfigFile(path: string, schema: Schema): Record<string, unknown> {
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${path}: malformed JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${path}: expected a JSON object of options`);
  const names = Object.keys(schema);
  for (const key of Object.keys(doc)) {
    if (!(key in schema)) {
      const near = nearest(key, names);
      throw new ConfigError(`${path}: unknown option '${key}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${names.join(', ')}`);
    }
  }
  return doc as Record<string, unknown>;
}

/**
 * Resolves a stage's configuration: schema defaults, then the JSON object `file` (from
 * `readConfigFile`, named `fileName` in errors; null for a command that takes no config file),
 * then command-line `flags` (values keyed by
 * kebab-case flag name, as node's parseArgs returns them). Throws a ConfigError for a wrong type,
 * a value out of bounds, or a required field left unset.
 */
export function resolveConfig(schema: Schema, file: Record<string, unknown> = {}, flags: Record<string, unknown> = {}, fileName: string | null = 'config'): Resolved {
  const flagNames = new Map(Object.keys(schema).map((n) => [kebab(n), n]));
  for (const flag of Object.keys(flags)) {
    if (!flagNames.has(flag)) throw new ConfigError(`unknown option --${flag}`);
  }
  const out: Resolved = {};
  for (const [name, f] of Object.entries(schema)) {
    const flag = flags[kebab(name)];
    let v: FieldValue | undefined = f.default as FieldValue | undefined;
    if (name in file) v = checkValue(name, f, file[name], fileName ?? 'config');
    if (flag !== undefined) v = checkValue(name, f, fromFlag(f, flag as string | boolean), `--${kebab(name)}`, String(flag));
    if (v === undefined) throw new ConfigError(`'${name}' is required: set --${kebab(name)}${fileName === null ? '' : ` or "${name}" in the config file`} (${f.help})`);
    out[name] = v;
  }
  return out;
}

/** The placeholder of a field's value in --help: `--lr NUM`, `--out DIR`, `--tasks LIST`. */
export function fieldArg(f: Field): string {
  if (f.arg) return f.arg;
  switch (f.kind) {
    case 'int': return 'INT';
    case 'number': return 'NUM';
    case 'list': return 'LIST';
    case 'bool': return '';
    case 'numberOrEnum': return `NUM|${f.values.join('|')}`;
    case 'enum': return f.values.length <= 4 ? f.values.join('|') : 'NAME';
    default: return 'TEXT';
  }
}

/** The flag name of a field (for error messages that point at the command line). */
export function flagName(name: string): string {
  return `--${kebab(name)}`;
}

/** Shorthands for declaring fields. */
export const field = {
  string: (help: string, def?: string | null): Field => ({ kind: 'string', help, default: def, nullable: def === null }),
  /** A string that names a directory (DIR in --help). */
  dir: (help: string, def?: string | null): Field => ({ kind: 'string', help, default: def, nullable: def === null, arg: 'DIR' }),
  /** A string that names a file (FILE in --help). */
  file: (help: string, def?: string | null): Field => ({ kind: 'string', help, default: def, nullable: def === null, arg: 'FILE' }),
  /** A string that names a file or a directory (PATH in --help). */
  path: (help: string, def?: string | null): Field => ({ kind: 'string', help, default: def, nullable: def === null, arg: 'PATH' }),
  int: (help: string, def: number | null | undefined, bounds: { min?: number; max?: number } = {}): Field =>
    ({ kind: 'int', help, default: def, nullable: def === null, ...bounds }),
  number: (help: string, def: number | null | undefined, bounds: { min?: number; max?: number; above?: number } = {}): Field =>
    ({ kind: 'number', help, default: def, nullable: def === null, ...bounds }),
  bool: (help: string, def: boolean): Field => ({ kind: 'bool', help, default: def }),
  enum: <T extends string>(help: string, values: readonly T[], def: T | null | undefined): Field =>
    ({ kind: 'enum', help, values, default: def, nullable: def === null }),
  list: (help: string, def?: readonly string[]): Field => ({ kind: 'list', help, default: def }),
  numberOrEnum: (help: string, values: readonly string[], def: string | number, above?: number): Field =>
    ({ kind: 'numberOrEnum', help, values, default: def, ...(above !== undefined ? { above } : {}) }),
};
