// JSON as Python's json.dumps(value, indent=2) writes it, which is how the Hugging Face libraries
// write config.json and adapter_config.json. Python tells a float from an int (1.0 from 1), and
// transformers' typed configs reject an int where a float belongs; a JavaScript number cannot tell,
// so the writer is told which numbers are floats by their path ("key.key.index"), and `floatPaths`
// reads those paths off a file so that what was read is written back the same way.

const NUMBER_MARK = '\u0000number:';

/** The paths ("a.b.0") of the numbers that the JSON `text` writes as floats (with a '.' or an exponent). */
export function floatPaths(text: string): string[] {
  // Every number literal outside a string becomes a marked string, so that parsing keeps its text.
  const marked: unknown = JSON.parse(text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (m) => (m.startsWith('"') ? m : JSON.stringify(NUMBER_MARK + m))));
  const out: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      if (v.startsWith(NUMBER_MARK) && /[.eE]/.test(v.slice(NUMBER_MARK.length))) out.push(path);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, path === '' ? k : `${path}.${k}`);
    }
  };
  walk(marked, '');
  return out;
}

/** Python's repr of a float, as json.dumps writes it: the shortest round-trip digits, always with a '.' or an exponent. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(x, -0)) return '-0.0';
  const [mantissa, e] = x.toExponential().split('e') as [string, string];
  const exp = Number(e);
  // repr switches to scientific notation below 1e-4 and from 1e16, with at least two exponent digits.
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const fixed = String(x);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

/** A string as json.dumps writes it (ensure_ascii: everything outside ' '..'~' escaped). */
function pythonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `value` as json.dumps(value, indent=2, sort_keys=True) writes it (how Hugging Face writes its
 * configs), without a final newline. A number is written as a float when it is not an integer or
 * when `isFloat(path)` says so, otherwise as an int.
 */
export function pythonJson(value: unknown, isFloat: (path: string) => boolean = () => false): string {
  const write = (v: unknown, path: string, indent: string): string => {
    if (typeof v === 'number') return Number.isSafeInteger(v) && !isFloat(path) ? String(v) : pythonFloat(v);
    if (typeof v === 'string') return pythonString(v);
    if (v === null || typeof v === 'boolean') return String(v);
    const inner = `${indent}  `;
    const at = (k: string | number): string => (path === '' ? String(k) : `${path}.${k}`);
    if (Array.isArray(v)) {
      return v.length === 0 ? '[]' : `[\n${v.map((x, i) => inner + write(x, at(i), inner)).join(',\n')}\n${indent}]`;
    }
    if (typeof v === 'object') {
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return entries.length === 0 ? '{}' : `{\n${entries.map(([k, x]) => `${inner}${pythonString(k)}: ${write(x, at(k), inner)}`).join(',\n')}\n${indent}}`;
    }
    throw new TypeError(`pythonJson: ${path || 'the value'} is a ${typeof v}, which JSON cannot hold`);
  };
  return write(value, '', '');
}
