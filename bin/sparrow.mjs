#!/usr/bin/env node
// The `sparrow` command: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../targets/node/cli.ts');
