// Data packages the library does not depend on: found when installed, and otherwise one message
// that names every missing package with the command that installs them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { missingPackages, missingPackagesMessage, requirePackageDir } from '../../src/util/packages.js';

const t = suite('util/packages');

const absent = { name: 'bpt-webgpu-no-such-package', version: '1.0.0' };
const absent2 = { name: '@bpt-webgpu/also-absent', version: '2.0.0' };

t('an installed package is found; absent ones are listed', () => {
  const dir = requirePackageDir('the test', { name: 'uvu', version: '0.5.6' });
  assert.ok(existsSync(join(dir, 'package.json')), dir);
  assert.equal(missingPackages([{ name: 'uvu', version: '0.5.6' }, absent, absent2]), [absent, absent2]);
});

t('the message names what needs them and one install command for all', () => {
  assert.is(
    missingPackagesMessage('the demo', [absent, absent2]),
    'the demo needs the npm packages bpt-webgpu-no-such-package@1.0.0, @bpt-webgpu/also-absent@2.0.0, which bpt-webgpu does not install ' +
      '(a clone of the repository has them after `npm ci`): run `npm install bpt-webgpu-no-such-package@1.0.0 @bpt-webgpu/also-absent@2.0.0`',
  );
  assert.throws(() => requirePackageDir('the spam task', absent), /the spam task needs the npm package bpt-webgpu-no-such-package@1\.0\.0, .*run `npm install bpt-webgpu-no-such-package@1\.0\.0`/);
});

t.run();
