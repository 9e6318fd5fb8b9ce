// Loads the interop packages from the folder scripts/node-deps.sh installed them into (never
// from the source tree, which has no node_modules). ES modules resolve bare names only next to
// the importing file, so the entry point is found here from the package's "exports" map.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export function depsDir(explicit) {
  const dir = explicit || process.env.CQDA_NODE_DEPS;
  if (!dir) throw new Error('the folder with the Node packages is not given: pass --deps DIR or set CQDA_NODE_DEPS (scripts/node-deps.sh DIR installs them)');
  if (!existsSync(path.join(dir, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json')))
    throw new Error(`no @modelcontextprotocol/sdk under ${dir}/node_modules: run scripts/node-deps.sh ${dir}`);
  return path.resolve(dir);
}

function pick(target) {
  if (typeof target === 'string') return target;
  if (target && typeof target === 'object') return pick(target.import ?? target.default ?? target.node ?? target.require);
  return undefined;
}

function entryFile(pkgDir, subpath) {
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const key = subpath ? `./${subpath}` : '.';
  if (pkg.exports && typeof pkg.exports === 'object' && !Array.isArray(pkg.exports) && Object.keys(pkg.exports)[0]?.startsWith('.')) {
    if (key in pkg.exports) return path.join(pkgDir, pick(pkg.exports[key]));
    for (const [pattern, target] of Object.entries(pkg.exports)) {
      const star = pattern.indexOf('*');
      if (star < 0) continue;
      const before = pattern.slice(0, star);
      const after = pattern.slice(star + 1);
      if (key.length >= before.length + after.length && key.startsWith(before) && key.endsWith(after))
        return path.join(pkgDir, pick(target).replace('*', key.slice(before.length, key.length - after.length)));
    }
    throw new Error(`${pkg.name} does not export ${key}`);
  }
  if (subpath) return path.join(pkgDir, subpath);
  return path.join(pkgDir, pkg.module ?? pkg.main ?? 'index.js');
}

// load(dir, '@modelcontextprotocol/sdk/client/index.js') imports that module from dir/node_modules.
export async function load(dir, specifier) {
  const parts = specifier.split('/');
  const nameParts = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameParts).join('/');
  const subpath = parts.slice(nameParts).join('/');
  const pkgDir = path.join(dir, 'node_modules', name);
  return import(pathToFileURL(entryFile(pkgDir, subpath)).href);
}

export function packageVersion(dir, name) {
  return JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
}
