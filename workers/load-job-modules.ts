import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isJobDefinition, type JobDefinition } from '../sdk/define-job.js';

/**
 * Imports job modules and collects their job definitions: the default export (one definition or an array) and
 * every named export made by `defineJob`. Two definitions of one type are an error, not a silent override.
 */
export async function loadJobModules(paths: readonly string[], cwd = process.cwd()): Promise<JobDefinition[]> {
  if (paths.length === 0) throw new Error('no job modules given: name at least one file that exports defineJob(...)');
  const byType = new Map<string, { definition: JobDefinition; path: string }>();
  for (const path of paths) {
    const module = await importJobModule(resolve(cwd, path));
    const found = new Set<JobDefinition>();
    for (const value of Object.values(module)) {
      for (const candidate of Array.isArray(value) ? value : [value]) {
        if (isJobDefinition(candidate)) found.add(candidate);
      }
    }
    if (found.size === 0) throw new Error(`${path} exports no job: export default defineJob({ type, input, handler })`);
    for (const definition of found) {
      const earlier = byType.get(definition.type);
      if (earlier && earlier.definition !== definition) {
        throw new Error(`job type "${definition.type}" is defined twice: in ${earlier.path} and in ${path}`);
      }
      byType.set(definition.type, { definition, path });
    }
  }
  return [...byType.values()].map((entry) => entry.definition);
}

async function importJobModule(path: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    // A .ts file in a folder whose package.json does not say "type": "module" is loaded as CommonJS, and the
    // ESM-only SDK then fails with a message about require() cycles that says nothing useful.
    if ((err as { code?: unknown }).code === 'ERR_REQUIRE_CYCLE_MODULE') {
      throw new Error(
        `${path} was loaded as CommonJS: job modules are ES modules. Add "type": "module" to the nearest package.json or name the file .mts`,
        { cause: err },
      );
    }
    throw err;
  }
}
