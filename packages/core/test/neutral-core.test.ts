// Core must not know which hypervisor it runs on: it imports no backend (nor
// the Linux backends' shared machinery) and names no KVM interface. Backends
// are loaded by package name at run time, from the one table in
// src/backend/discover.ts. eslint's no-restricted-imports covers static
// imports; this also catches require(), import() and import types, in the
// sources and in the built bundle.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const CORE_DIR = fileURLToPath(new URL('..', import.meta.url));
const SRC_DIR = join(CORE_DIR, 'src');
const DIST_DIR = join(CORE_DIR, 'dist');
/** The only file that may name a backend package (as data, never as an import). */
const PACKAGE_TABLE = 'backend/discover.ts';

/** A package name or relative path that reaches into a backend or its machinery. */
const BACKEND_MODULE = /^@hyperlight-ts\/(?:backend-|native-linux(?:\/|$))|(?:^|\/)(?:backend-[^/]+|native-linux)\//;
/** A backend package named anywhere, e.g. in a string passed to a loader. */
const BACKEND_PACKAGE_NAME = /@hyperlight-ts\/(?:backend-|native-linux)/;
/** KVM's ioctl, exit and structure names (`KVM_RUN`, `KVM_EXIT_MMIO`, `kvm_run`, `kvm_segment`, ...). */
const KVM_NAME = /\bKVM_[A-Z0-9_]+|\bkvm_[a-z0-9_]+/;

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith(extension) && !path.endsWith(`.d${extension}`))
    .map((path) => join(dir, path));
}

/** Module specifiers a file loads: import/export from, import(), require(), import types. */
function moduleSpecifiers(source: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isExternalModuleReference(node) && ts.isStringLiteral(node.expression)) {
      found.push(node.expression.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    } else if (ts.isCallExpression(node) && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every name and literal in the code (identifiers, strings, template parts, regular expressions); comments are not nodes. */
function codeWords(source: ts.SourceFile): string[] {
  const words: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node) || ts.isStringLiteralLike(node) || ts.isRegularExpressionLiteral(node)
      || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      words.push(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return words;
}

const parse = (name: string, text: string): ts.SourceFile => ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true);

const sources = filesUnder(SRC_DIR, '.ts').map((path) => {
  const name = relative(SRC_DIR, path);
  return { name, source: parse(name, readFileSync(path, 'utf8')) };
});

describe('core is hypervisor-neutral', () => {
  it('finds the sources it checks', () => {
    expect(sources.map((s) => s.name)).toContain(PACKAGE_TABLE);
    expect(sources.length).toBeGreaterThan(20);
  });

  it('no source loads a backend package or a path into one', () => {
    const offenders = sources.flatMap(({ name, source }) =>
      moduleSpecifiers(source)
        .filter((specifier) => BACKEND_MODULE.test(specifier))
        .map((specifier) => `${name}: ${specifier}`));
    expect(offenders).toEqual([]);
  });

  it(`only ${PACKAGE_TABLE} names a backend package in code`, () => {
    const offenders = sources
      .filter(({ name, source }) => name !== PACKAGE_TABLE && codeWords(source).some((word) => BACKEND_PACKAGE_NAME.test(word)))
      .map(({ name }) => name);
    expect(offenders).toEqual([]);
  });

  it('no source names a KVM ioctl, exit or structure in code', () => {
    const offenders = sources.flatMap(({ name, source }) =>
      codeWords(source).filter((word) => KVM_NAME.test(word)).map((word) => `${name}: ${word}`));
    expect(offenders).toEqual([]);
  });

  it('the self-check: the scanners see what they must', () => {
    const sample = [
      "import a from '@hyperlight-ts/backend-kvm';",
      "export { b } from '../../backend-mshv/src/index.js';",
      "const c = require('@hyperlight-ts/native-linux');",
      "const d = await import('@hyperlight-ts/backend-whp');",
      "type E = import('../../native-linux/src/call-state.js').CallState;",
      "import f from './backend-error.js';",
      '// KVM_RUN in a comment is fine',
      '/* kvm_run in a block comment too */',
      "const g = `exit ${KVM_EXIT_HLT}` + 'kvm_segment';",
    ].join('\n');
    const source = parse('sample.ts', sample);
    const specifiers = moduleSpecifiers(source);
    expect(specifiers.filter((s) => BACKEND_MODULE.test(s))).toHaveLength(5);
    expect(specifiers).toContain('./backend-error.js');
    expect(codeWords(source).filter((word) => KVM_NAME.test(word))).toEqual(['KVM_EXIT_HLT', 'kvm_segment']);
  });

  // The bundle is what users run; a bundler could inline what the sources only reference.
  // `pnpm test` builds first (turbo), so dist/ exists; a bare vitest run after a clean says to build.
  it('the built bundle (dist/) loads no backend package', () => {
    expect(existsSync(DIST_DIR), 'core is not built: run pnpm build first').toBe(true);
    const loads = /(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*)["'`](@hyperlight-ts\/(?:backend-|native-linux)[^"'`]*)["'`]/g;
    const offenders = filesUnder(DIST_DIR, '.js').concat(filesUnder(DIST_DIR, '.cjs'))
      .flatMap((path) => [...readFileSync(path, 'utf8').matchAll(loads)].map((m) => `${relative(DIST_DIR, path)}: ${m[1]}`));
    expect(offenders).toEqual([]);
  });
});
