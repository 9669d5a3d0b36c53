import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isJobDefinition, type JobDefinition } from './define-job.js';

/**
 * Imports job modules and collects their job definitions: the default export (one definition or an array) and
 * every named export made by `defineJob`. Two definitions of one type are an error, not a silent override.
 */
export async function loadJobModules(paths: readonly string[], cwd = process.cwd()): Promise<JobDefinition[]> {
  if (paths.length === 0) throw new Error('no job modules given: name at least one file that exports defineJob(...)');
  const byType = new Map<string, { definition: JobDefinition; path: string }>();
  for (const path of paths) {
    const module = (await import(pathToFileURL(resolve(cwd, path)).href)) as Record<string, unknown>;
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
