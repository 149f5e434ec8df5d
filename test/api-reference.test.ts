/**
 * @module The API reference is complete: every symbol an integrator can import from a public subpath
 * of the package (package.json `exports`) has a doc comment, each entry module opens with its @module
 * comment, and TypeDoc builds the reference (npm run api-docs) without a warning: no type that the
 * public API uses is left unexported, and no {@link} points at something the reference leaves out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { apiReference } from '../scripts/generate-api-docs.js';
import { PROJECT_ROOT, publicEntryPoints } from '../scripts/public-entry-points.js';

const ENTRIES = publicEntryPoints();

/** The exports of `module` without a doc comment; a namespace re-export (`export * as commands`) is looked into. */
function undocumented(checker: ts.TypeChecker, module: ts.Symbol, prefix: string): string[] {
  return checker.getExportsOfModule(module).flatMap((s) => {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    const declaration = target.declarations?.[0];
    if (declaration && ts.isSourceFile(declaration)) return undocumented(checker, target, `${prefix}${s.name}.`);
    if (target.getDocumentationComment(checker).length > 0) return [];
    return [`${prefix}${s.name} (${declaration?.getSourceFile().fileName.slice(PROJECT_ROOT.length + 1)})`];
  });
}

/** The exported names of each entry module that have no doc comment, with where they are declared. */
function undocumentedExports(): Record<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(join(PROJECT_ROOT, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('cannot read tsconfig.build.json');
  const roots = ENTRIES.map((e) => join(PROJECT_ROOT, e.source));
  const program = ts.createProgram(roots, config.options);
  const checker = program.getTypeChecker();
  const out: Record<string, string[]> = {};
  for (const [i, e] of ENTRIES.entries()) {
    const file = program.getSourceFile(roots[i]);
    const module = file && checker.getSymbolAtLocation(file);
    if (!module) throw new Error(`${e.source} is not a module`);
    out[e.specifier] = undocumented(checker, module, '');
  }
  return out;
}

describe('the API reference', () => {
  it('has a public entry module for every subpath, each opening with its @module comment', () => {
    expect(ENTRIES.length).toBeGreaterThan(0);
    for (const e of ENTRIES) expect(readFileSync(join(PROJECT_ROOT, e.source), 'utf8'), e.source).toMatch(/^\/\*\*[\s*]*@module \S/);
  });

  it('documents every export of every public subpath with a doc comment', () => {
    const missing = undocumentedExports();
    expect(Object.keys(missing)).toEqual(ENTRIES.map((e) => e.specifier));
    for (const [specifier, names] of Object.entries(missing)) expect(names, `${specifier}: exports without a doc comment`).toEqual([]);
  });

  it('is built by TypeDoc without a warning: every type the public API uses is exported, every link resolves', async () => {
    const { project, warnings } = await apiReference();
    expect(project).toBeDefined();
    expect(warnings).toEqual([]);
    const modules = project!.children?.map((m) => m.name);
    expect(modules?.sort()).toEqual(ENTRIES.map((e) => e.specifier).sort());
  }, 180_000);
});
