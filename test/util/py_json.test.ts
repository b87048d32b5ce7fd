// JSON as Python's json.dumps(indent=2, sort_keys=True) writes it: float reprs digit for digit,
// floats marked by path, and the float paths read back off a file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { floatPaths, pythonFloat, pythonJson } from '../../src/util/py_json.js';

const t = suite('util/py_json');

t("pythonFloat is Python's repr", () => {
  // Each pair: the JavaScript number, repr(float) in CPython 3.11.
  const cases: Array<[number, string]> = [
    [1, '1.0'], [0, '0.0'], [-0, '-0.0'], [0.1, '0.1'], [1e-6, '1e-06'], [1e-5, '1e-05'], [0.0001, '0.0001'],
    [1.5e-7, '1.5e-07'], [123.25, '123.25'], [1e15, '1000000000000000.0'], [1e16, '1e+16'], [1.5e16, '1.5e+16'],
    [-2.5, '-2.5'], [1 / 3, '0.3333333333333333'], [1e100, '1e+100'], [5e-324, '5e-324'],
    [Number.NaN, 'NaN'], [Number.POSITIVE_INFINITY, 'Infinity'], [Number.NEGATIVE_INFINITY, '-Infinity'],
  ];
  for (const [x, repr] of cases) assert.is(pythonFloat(x), repr, String(x));
});

t('pythonJson: indent 2, keys sorted at every depth, ensure_ascii, floats by path or by value', () => {
  const value = { z: 1, a: { y: [1, 2.5, { c: 3, b: 'é\u007f"' }], x: [] as number[], w: {} }, f: 2, n: null, t: true };
  const text = pythonJson(value, (p) => p === 'f' || p === 'a.y.2.c');
  assert.is(text, [
    '{',
    '  "a": {',
    '    "w": {},',
    '    "x": [],',
    '    "y": [',
    '      1,',
    '      2.5,',
    '      {',
    '        "b": "\\u00e9\\u007f\\"",',
    '        "c": 3.0',
    '      }',
    '    ]',
    '  },',
    '  "f": 2.0,',
    '  "n": null,',
    '  "t": true,',
    '  "z": 1',
    '}',
  ].join('\n'));
  assert.equal(JSON.parse(text), value);
});

t('floatPaths: numbers written with a point or an exponent, at any depth; digits inside strings ignored', () => {
  const text = '{"a": 1, "b": 1.0, "c": {"d": [2, 3e-6, "4.0"], "e": -0.5}, "f": "1.5", "g": 1E3}';
  assert.equal(floatPaths(text), ['b', 'c.d.1', 'c.e', 'g']);
  assert.equal(floatPaths('{"s": "a \\" 1.5"}'), []);
});

t.run();
