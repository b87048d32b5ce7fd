// HF checkpoint directories: the real HF fixture, random checkpoints of the other variants
// (gated-gelu untied, sharded, F16/BF16), tied-alias handling, and one test per error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHfCheckpoint, saveHfCheckpoint } from '../../src/io/checkpoint.js';
import {
  bf16BitsToFloat32, f16BitsToFloat32, float32ToBf16Bits, float32ToF16Bits, toFloat32, type HostTensor,
} from '../../src/io/dtype.js';
import { readSafetensors, SafetensorsReader } from '../../src/io/safetensors.js';
import { writeSafetensors } from '../../src/io/safetensors_writer.js';
import { makeT5Config, t5ConfigToJson, t5ParameterShapes, type T5Config } from '../../src/nn/t5/config.js';
import { rng } from '../util/check.js';
import { sharedTest } from '../util/shared.js';
import { throwsWith } from '../util/throws.js';

const t = suite('io/checkpoint');
const root = mkdtempSync(join(tmpdir(), 'bpt-ckpt-'));
let n = 0;
const freshDir = () => {
  const d = join(root, `c${n++}`);
  mkdirSync(d);
  return d;
};

function randomParams(config: T5Config, seed: number): Map<string, HostTensor<Float32Array>> {
  const r = rng(seed);
  const out = new Map<string, HostTensor<Float32Array>>();
  for (const { name, shape } of t5ParameterShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = r() * 2 - 1;
    out.set(name, { data, shape });
  }
  return out;
}

function writeConfig(dir: string, config: T5Config): void {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(t5ConfigToJson(config)));
}

function assertSameParams(got: Map<string, HostTensor<Float32Array>>, want: Map<string, { data: Float32Array; shape: number[] }>): void {
  assert.equal([...got.keys()], [...want.keys()]);
  for (const [name, w] of want) {
    const g = got.get(name)!;
    assert.equal(g.shape, w.shape, name);
    assert.ok(g.data.length === w.data.length && g.data.every((x, i) => x === w.data[i]), `${name} values`);
  }
}

const tiny = (extra: Partial<T5Config> = {}) =>
  makeT5Config({ vocab_size: 40, d_model: 16, d_kv: 4, num_heads: 2, d_ff: 24, num_layers: 2, num_decoder_layers: 3, ...extra });
const gated = () => tiny({ feed_forward_proj: 'gated-gelu', tie_word_embeddings: false });

const FIXTURE = ['fixtures', 't5-parity', 't5_v10_relu_tied'];

sharedTest(t, "HF fixture: v1.0 relu tied, 47 tensors, save reproduces HF's file byte for byte", FIXTURE, (dir) => {
  const ck = loadHfCheckpoint(dir);
  assert.equal(ck.warnings, []);
  const c = ck.config;
  assert.equal([c.d_model, c.d_kv, c.d_ff, c.num_heads, c.num_layers, c.num_decoder_layers, c.vocab_size], [64, 16, 128, 4, 2, 2, 256]);
  assert.is(c.tie_word_embeddings, true);
  assert.is(c.dense_act_fn, 'relu');
  assert.is(ck.tensors.size, 47);
  assert.ok(!ck.tensors.has('lm_head.weight'));
  const raw = readSafetensors(join(dir, 'model.safetensors')).tensors;
  assert.equal([...ck.tensors.get('shared.weight')!.data], [...toFloat32(raw.get('shared.weight')!)]);

  const out = join(root, 'fixture-copy');
  saveHfCheckpoint(out, c, ck.tensors);
  assert.ok(readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(dir, 'model.safetensors'))), 'identical weights file');
  const back = loadHfCheckpoint(out);
  assert.equal(back.config, c);
  assertSameParams(back.tensors, ck.tensors);
});

t('gated-gelu untied round trip (lm_head present, wi_0/wi_1, deeper decoder, heads*d_kv != d_model)', () => {
  const config = gated();
  const params = randomParams(config, 1);
  const dir = freshDir();
  saveHfCheckpoint(dir, config, params);
  const names = [...readSafetensors(join(dir, 'model.safetensors')).tensors.keys()];
  assert.ok(names.includes('lm_head.weight') && names.includes('decoder.block.2.layer.2.DenseReluDense.wi_1.weight'));
  const cj = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.is(cj.tie_word_embeddings, false);
  assert.is(cj.dense_act_fn, 'gelu_new');
  const ck = loadHfCheckpoint(dir);
  const { extra: _e1, ...got } = ck.config;
  const { extra: _e2, ...want } = config;
  assert.equal(got, want);
  assertSameParams(ck.tensors, params);
});

t('sharded checkpoint via model.safetensors.index.json', () => {
  const config = gated();
  const params = randomParams(config, 2);
  const dir = freshDir();
  writeConfig(dir, config);
  const names = [...params.keys()];
  const shards = [names.slice(0, 20), names.slice(20)];
  const weightMap: Record<string, string> = {};
  shards.forEach((group, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(join(dir, file), new Map(group.map((k) => [k, params.get(k)!])), { format: 'pt' });
    for (const k of group) weightMap[k] = file;
  });
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  assertSameParams(loadHfCheckpoint(dir).tensors, params);

  // A tensor in a shard the index does not list, an index entry its shard lacks, a missing shard.
  const extra = new Map(shards[1]!.map((k) => [k, params.get(k)!] as [string, HostTensor]));
  extra.set('encoder.block.9.layer.0.layer_norm.weight', { shape: [16], data: new Float32Array(16) });
  writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), extra);
  throwsWith(() => loadHfCheckpoint(dir), 'model-00002-of-00002.safetensors', '"encoder.block.9.layer.0.layer_norm.weight"', 'not listed');
  writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), new Map(shards[1]!.slice(1).map((k) => [k, params.get(k)!])));
  throwsWith(() => loadHfCheckpoint(dir), 'model.safetensors.index.json', `"${shards[1]![0]}"`, 'does not hold it');
  rmSync(join(dir, 'model-00002-of-00002.safetensors'));
  throwsWith(() => loadHfCheckpoint(dir), 'shard model-00002-of-00002.safetensors', 'does not exist');

  // Saving over a sharded directory replaces it with the single-file layout.
  saveHfCheckpoint(dir, config, params);
  assert.ok(!existsSync(join(dir, 'model.safetensors.index.json')) && !existsSync(join(dir, 'model-00001-of-00002.safetensors')));
  assertSameParams(loadHfCheckpoint(dir).tensors, params);
});

t('F16 and BF16 tensors load as float32', () => {
  const config = tiny();
  const params = randomParams(config, 3);
  const dir = freshDir();
  writeConfig(dir, config);
  const file = new Map<string, HostTensor>();
  const expected = new Map<string, { data: Float32Array; shape: number[] }>();
  let i = 0;
  for (const [name, p] of params) {
    const kind = i++ % 3;
    if (kind === 0) {
      const bits = float32ToF16Bits(p.data);
      file.set(name, { dtype: 'F16', shape: p.shape, data: bits });
      expected.set(name, { data: f16BitsToFloat32(bits), shape: p.shape });
    } else if (kind === 1) {
      const bits = float32ToBf16Bits(p.data);
      file.set(name, { dtype: 'BF16', shape: p.shape, data: bits });
      expected.set(name, { data: bf16BitsToFloat32(bits), shape: p.shape });
    } else {
      file.set(name, { dtype: 'F32', shape: p.shape, data: p.data });
      expected.set(name, p);
    }
  }
  writeSafetensors(join(dir, 'model.safetensors'), file, { format: 'pt' });
  const ck = loadHfCheckpoint(dir);
  assertSameParams(ck.tensors, expected);
  const q = ck.tensors.get('shared.weight')!.data, orig = params.get('shared.weight')!.data;
  assert.ok(q.every((x, k) => Math.abs(x - orig[k]!) <= 2 ** -11), 'F16 values within half precision');
});

t('tied aliases: embed_tokens / lm_head copies accepted, compared, and used when shared.weight is absent', () => {
  const config = tiny();
  const params = randomParams(config, 4);
  const shared = params.get('shared.weight')!;
  const dir = freshDir();
  writeConfig(dir, config);
  const withAliases = new Map<string, HostTensor>(params);
  for (const a of ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'lm_head.weight']) withAliases.set(a, shared);
  writeSafetensors(join(dir, 'model.safetensors'), withAliases, { format: 'pt' });
  let ck = loadHfCheckpoint(dir);
  assert.equal(ck.warnings, []);
  assertSameParams(ck.tensors, params);

  const other = { shape: shared.shape, data: shared.data.map((x) => x + 1) };
  withAliases.set('decoder.embed_tokens.weight', other);
  writeSafetensors(join(dir, 'model.safetensors'), withAliases);
  ck = loadHfCheckpoint(dir);
  assert.is(ck.warnings.length, 1);
  assert.ok(ck.warnings[0]!.includes('"decoder.embed_tokens.weight" differs from shared.weight'), ck.warnings[0]);
  assertSameParams(ck.tensors, params);

  const noShared = new Map<string, HostTensor>(params);
  noShared.delete('shared.weight');
  noShared.set('encoder.embed_tokens.weight', shared);
  writeSafetensors(join(dir, 'model.safetensors'), noShared);
  assertSameParams(loadHfCheckpoint(dir).tensors, params);

  // Saving drops equal aliases and refuses differing ones.
  const dir2 = freshDir();
  saveHfCheckpoint(dir2, config, new Map([...params, ['lm_head.weight', shared]]));
  assert.ok(!readSafetensors(join(dir2, 'model.safetensors')).tensors.has('lm_head.weight'));
  throwsWith(() => saveHfCheckpoint(dir2, config, new Map([...params, ['lm_head.weight', other]])), '"lm_head.weight"', 'differs from shared.weight');
});

t('unexpected tensors: error by default, warnings on request, HF-ignored key only warns', () => {
  const config = tiny();
  const params = randomParams(config, 5);
  const dir = freshDir();
  writeConfig(dir, config);
  const file = new Map<string, HostTensor>(params);
  file.set('decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight', { shape: [32, 2], data: new Float32Array(64) });
  writeSafetensors(join(dir, 'model.safetensors'), file);
  const ck = loadHfCheckpoint(dir);
  assert.is(ck.warnings.length, 1);
  assert.ok(ck.warnings[0]!.includes('ignored'));
  file.set('encoder.block.2.layer.0.SelfAttention.q.weight', { shape: [8, 16], data: new Float32Array(128) });
  writeSafetensors(join(dir, 'model.safetensors'), file);
  throwsWith(() => loadHfCheckpoint(dir), join(dir, 'model.safetensors'), 'unexpected tensor "encoder.block.2.layer.0.SelfAttention.q.weight" [8, 16]', 'is the config right?');
  assert.is(loadHfCheckpoint(dir, { allowUnexpected: true }).warnings.length, 2);
});

t('error: missing tensor', () => {
  const config = gated();
  const params = randomParams(config, 6);
  const dir = freshDir();
  writeConfig(dir, config);
  const file = new Map<string, HostTensor>(params);
  file.delete('lm_head.weight');
  file.delete('decoder.block.1.layer.1.EncDecAttention.v.weight');
  writeSafetensors(join(dir, 'model.safetensors'), file);
  throwsWith(() => loadHfCheckpoint(dir), join(dir, 'model.safetensors'), 'missing tensor(s)', '"decoder.block.1.layer.1.EncDecAttention.v.weight"', '"lm_head.weight"');
});

t('error: wrong shape vs config', () => {
  const config = tiny();
  const params = randomParams(config, 7);
  const dir = freshDir();
  saveHfCheckpoint(dir, config, params);
  // The same weights under a config that claims more heads.
  writeConfig(dir, { ...config, num_heads: 4 });
  throwsWith(() => loadHfCheckpoint(dir), join(dir, 'model.safetensors'), 'tensor "encoder.block.0.layer.0.SelfAttention.q.weight"', 'shape [8, 16]', 'implies [16, 16]');
  throwsWith(() => saveHfCheckpoint(freshDir(), { ...config, d_ff: 7 }, params), 'DenseReluDense.wi.weight', '[24, 16]', '[7, 16]');
});

t('a header declaring an 8 GiB tensor (sparse file) is refused against config.json before any tensor data is read', () => {
  const config = tiny();
  const params = randomParams(config, 9);
  const dir = freshDir();
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, p] of params) {
    if (name === 'shared.weight') continue;
    header[name] = { dtype: 'F32', shape: p.shape, data_offsets: [offset, offset + p.data.byteLength] };
    chunks.push(new Uint8Array(p.data.buffer));
    offset += p.data.byteLength;
  }
  const huge = 8 * 2 ** 30;
  header['shared.weight'] = { dtype: 'F32', shape: [huge / 4 / 16, 16], data_offsets: [offset, offset + huge] };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(json.length), true);
  const file = join(dir, 'model.safetensors');
  writeFileSync(file, Buffer.concat([len, json, ...chunks]));
  truncateSync(file, 8 + json.length + offset + huge);
  writeConfig(dir, config);
  const t0 = performance.now();
  throwsWith(() => loadHfCheckpoint(dir), file, 'tensor "shared.weight"', `shape [${huge / 64}, 16]`, 'config.json implies [40, 16]');
  assert.ok(performance.now() - t0 < 2000, 'refused from the header alone');
  const reader = SafetensorsReader.open(file);
  try {
    const q = 'encoder.block.0.layer.0.SelfAttention.q.weight';
    assert.equal([...toFloat32(reader.read(q))], [...params.get(q)!.data], 'other tensors of the file read one at a time');
  } finally {
    reader.close();
  }
});

t('error: non-float tensor, truncated file, missing/malformed config, unreadable weight formats', () => {
  const config = tiny();
  const params = randomParams(config, 8);
  const dir = freshDir();
  saveHfCheckpoint(dir, config, params);
  const weights = join(dir, 'model.safetensors');
  const good = readFileSync(weights);

  const file = new Map<string, HostTensor>(params);
  file.set('encoder.final_layer_norm.weight', { shape: [16], data: new Int32Array(16) });
  writeSafetensors(weights, file);
  throwsWith(() => loadHfCheckpoint(dir), weights, 'tensor "encoder.final_layer_norm.weight"', 'dtype I32');

  writeFileSync(weights, good.subarray(0, good.length - 100));
  throwsWith(() => loadHfCheckpoint(dir), weights, 'file truncated');

  writeFileSync(weights, good);
  writeFileSync(join(dir, 'config.json'), '{"d_model": 16,');
  throwsWith(() => loadHfCheckpoint(dir), join(dir, 'config.json'), 'malformed JSON');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...t5ConfigToJson(config), feed_forward_proj: 'gated-' }));
  throwsWith(() => loadHfCheckpoint(dir), join(dir, 'config.json'), 'feed_forward_proj');
  rmSync(join(dir, 'config.json'));
  throwsWith(() => loadHfCheckpoint(dir), dir, 'config.json not found');

  const bin = freshDir();
  writeConfig(bin, config);
  writeFileSync(join(bin, 'pytorch_model.bin'), 'x');
  throwsWith(() => loadHfCheckpoint(bin), 'pytorch_model.bin', 'only safetensors');
});

sharedTest(t, 'fixture copy with a truncated weights file fails naming it', FIXTURE, (dir) => {
  const d = freshDir();
  copyFileSync(join(dir, 'config.json'), join(d, 'config.json'));
  const bytes = readFileSync(join(dir, 'model.safetensors'));
  writeFileSync(join(d, 'model.safetensors'), bytes.subarray(0, bytes.length - 1000));
  throwsWith(() => loadHfCheckpoint(d), join(d, 'model.safetensors'), 'file truncated');
});

t.after(() => rmSync(root, { recursive: true, force: true }));
t.run();
