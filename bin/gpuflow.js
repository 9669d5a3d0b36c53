#!/usr/bin/env node
// The package runs from its TypeScript sources through tsx, so job modules may be TypeScript too.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
