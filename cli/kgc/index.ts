/** @module `drmb kgc`: the IBC key-generation centre as its own process (serve) and its list of authorised desks and terminals (authorize). */
import type { Command as Cli } from 'commander';
import { registerKgcAuthorize } from './authorize.js';
import { registerKgcServe } from './serve.js';

export function registerKgcCommands(kgc: Cli): void {
  registerKgcServe(kgc);
  registerKgcAuthorize(kgc);
}
