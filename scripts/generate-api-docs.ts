/**
 * @module Writes the API reference of the package's public subpaths to docs/api/ (npm run api-docs):
 * TypeDoc with its markdown plugin over the entry points of package.json `exports`, one page per
 * subpath named as it is imported, from the TSDoc comments. `apiReference` converts without writing,
 * for the test that the reference is complete.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, Comment, Converter, LogLevel, type ProjectReflection, ReflectionKind } from 'typedoc';
import { PROJECT_ROOT, publicEntryPoints } from './public-entry-points.js';

/** Where the reference is written. */
export const API_DOCS_DIR = join(PROJECT_ROOT, 'docs', 'api');

/** The text of a file's leading `@module` doc comment, its lines joined. */
function moduleDescription(file: string): string {
  const m = /^\/\*\*[\s*]*@module\s+([\s\S]*?)\*\//.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file} does not start with a @module doc comment`);
  return m[1].split('\n').map((l) => l.replace(/^\s*\*\s?/, '')).join('\n').trim();
}

/** The TypeDoc application over the public entry points; every warning (an undocumented export, a type the API uses but does not export, a broken link) is collected in `warnings`. */
export async function apiDocsApplication(): Promise<{ app: Application; warnings: string[] }> {
  const entries = publicEntryPoints();
  const app = await Application.bootstrapWithPlugins({
    entryPoints: entries.map((e) => join(PROJECT_ROOT, e.source)),
    tsconfig: join(PROJECT_ROOT, 'tsconfig.build.json'),
    plugin: ['typedoc-plugin-markdown'],
    out: API_DOCS_DIR,
    name: 'drmb-toolchain API reference',
    readme: 'none',
    excludePrivate: true,
    excludeInternal: true,
    disableSources: true,
    // Whether every export has a doc comment is test/api-reference.test.ts's check, on the exports alone.
    validation: { notExported: true, invalidLink: true, notDocumented: false },
    // Private to their modules, shown inline where the public types use them.
    intentionallyNotExported: ['LOAD_KEYS', 'Command.encode', 'RequiredKeys', 'OptionalKeys', 'Shape', 'TlvShape', 'TlvFieldValue'],
    logLevel: 'Warn',
  });
  const warnings: string[] = [];
  const log = app.logger.log.bind(app.logger);
  app.logger.log = (message, level) => {
    if (level >= LogLevel.Warn) warnings.push(String(message));
    log(message, level);
  };
  // Each module is named as it is imported and described by its @module comment (TypeDoc reads that
  // tag's text as a module name, and drops it).
  const bySource = new Map(entries.map((e) => [e.source.replace(/\.ts$/, ''), e]));
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.getChildrenByKind(ReflectionKind.Module)) {
      const entry = bySource.get(mod.name);
      if (!entry) continue;
      mod.name = entry.specifier;
      mod.comment = new Comment([{ kind: 'text', text: moduleDescription(join(PROJECT_ROOT, entry.source)) }]);
    }
  });
  return { app, warnings };
}

/** Converts the public entry points (no files written); `project` is undefined when TypeDoc failed. */
export async function apiReference(): Promise<{ project: ProjectReflection | undefined; warnings: string[] }> {
  const { app, warnings } = await apiDocsApplication();
  const project = await app.convert();
  if (project) app.validate(project);
  return { project, warnings };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { app, warnings } = await apiDocsApplication();
  const project = await app.convert();
  if (!project) throw new Error('TypeDoc could not convert the public entry points');
  app.validate(project);
  await app.generateOutputs(project);
  console.log(`wrote ${API_DOCS_DIR}${warnings.length ? ` with ${warnings.length} warning(s)` : ''}`);
  if (warnings.length) process.exitCode = 1;
}
