import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initGpu } from '../src/gpu/device.js';

const t = suite('device');
t('acquires an adapter and reports it', async () => {
  const g = await initGpu();
  assert.ok(g.report.description.length > 0);
  assert.ok(g.report.maxStorageBufferBindingSize >= 128 << 20);
});
t.run();
