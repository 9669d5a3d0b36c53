import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleOptions } from '@temporalio/worker';

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];

/** This package's folder: `node_modules/gpuflow/` when gpuflow is installed as a dependency. */
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Temporal's bundler compiles `.ts` files outside `node_modules` only; an installed gpuflow ships its workflows as
 * TypeScript inside `node_modules/gpuflow/`, so the rule is widened to this package's own files (not the rest of
 * node_modules, which ships JavaScript).
 */
export function compileOwnTypeScript(config: WebpackConfig): WebpackConfig {
  for (const rule of config.module?.rules ?? []) {
    if (!rule || typeof rule !== 'object' || !(rule.test instanceof RegExp) || !rule.test.test('x.ts')) continue;
    rule.exclude = (path: string) => {
      const own = path.startsWith(PACKAGE_ROOT) ? path.slice(PACKAGE_ROOT.length) : path;
      return own.includes(`${sep}node_modules${sep}`) || own.startsWith(`node_modules${sep}`);
    };
  }
  return config;
}
