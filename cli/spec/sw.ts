/** @module `drmb spec sw`: explains a status word. */
import type { Command as Cli } from 'commander';
import { describeSw, type StatusWordInfo } from '../../applet-spec/status-words.js';
import { emit, UsageError } from '../output.js';
import { withJson } from '../options.js';

/** Parses "6A82" / "0x6a82" and describes it. */
export function explainSw(text: string): StatusWordInfo {
  const clean = text.replace(/^0x/i, '').replace(/\s/g, '');
  if (!/^[0-9a-fA-F]{4}$/.test(clean)) throw new UsageError(`status word "${text}" must be 4 hex digits, e.g. 6A82`);
  return describeSw(parseInt(clean, 16));
}

export function registerSw(spec: Cli): void {
  withJson(
    spec
      .command('sw')
      .description('explain a status word')
      .argument('<sw>', 'status word in hex, e.g. 6A82'),
  ).action((sw: string, opts: { json?: boolean }) => {
    emit(explainSw(sw), !!opts.json, (i) => `${sw.toUpperCase()} ${i.name} (${i.origin}): ${i.meaning}`);
  });
}
