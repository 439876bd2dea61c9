#!/usr/bin/env node
// Writes the Markdown pages and the AsyncAPI document of an event catalog.
// Plain JavaScript on the built package, so it runs wherever @edakit/core is installed.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { asyncApiDocument, EdakitError, eventPages, isCatalog, messageOf } from '../dist/index.js';

const USAGE = `Usage: edakit-catalog <module> [--export <name>] [--out <dir>] [--asyncapi <file.json>]
                      [--content-mode binary|structured]

Reads the event catalog (made with defineCatalog) that an ES module exports and writes
index.md plus one page per event into <dir>, and an AsyncAPI 3.0.0 document into <file.json>.

  <module>           built JavaScript (.js, .mjs); for TypeScript run: node --import tsx ...
  --export <name>    the export that holds the catalog (default: the default export)
  --out <dir>        folder for the Markdown pages, created if missing
  --asyncapi <file>  where to write the AsyncAPI document, as JSON
  --content-mode <m> the producers' CloudEvents content mode, as their transport's
                     contentMode option: binary (default) or structured
  -h, --help         show this help

At least one of --out and --asyncapi is needed. Exit codes: 0 done, 1 failed, 2 bad usage.`;

/** Wrong arguments or a module that does not hold a catalog: exit code 2, with the usage. */
class UsageError extends Error {}

function parse(args) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        export: { type: 'string' },
        out: { type: 'string' },
        asyncapi: { type: 'string' },
        'content-mode': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'Give the module that exports the catalog'
        : `Give one module, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  if (values.out === undefined && values.asyncapi === undefined) {
    throw new UsageError('Nothing to write: give --out <dir>, --asyncapi <file.json> or both');
  }
  if (values.asyncapi !== undefined && extname(values.asyncapi).toLowerCase() !== '.json') {
    // YAML would need a YAML library; every AsyncAPI tool reads JSON.
    throw new UsageError(`--asyncapi writes JSON: name the file *.json, got "${values.asyncapi}"`);
  }
  if (values['content-mode'] !== undefined && values.asyncapi === undefined) {
    throw new UsageError(
      '--content-mode describes the AsyncAPI document: give --asyncapi <file.json>',
    );
  }
  const contentMode = values['content-mode'] ?? 'binary';
  if (contentMode !== 'binary' && contentMode !== 'structured') {
    throw new UsageError(`--content-mode is binary or structured, got "${contentMode}"`);
  }
  return {
    help: false,
    contentMode,
    module: resolve(positionals[0]),
    exportName: values.export ?? 'default',
    out: values.out,
    asyncapi: values.asyncapi,
  };
}

async function loadCatalog(modulePath, exportName) {
  if (!existsSync(modulePath)) throw new UsageError(`No module at ${modulePath}`);
  let exports;
  try {
    exports = await import(pathToFileURL(modulePath).href);
  } catch (error) {
    const hint =
      error?.code === 'ERR_UNKNOWN_FILE_EXTENSION'
        ? ' (build it to JavaScript first, or run: node --import tsx <path to edakit-catalog.mjs> ...)'
        : '';
    throw new Error(`Could not load ${modulePath}${hint}: ${describe(error)}`, { cause: error });
  }
  const catalogs = Object.keys(exports).filter((name) => isCatalog(exports[name]));
  if (!(exportName in exports)) {
    const found = catalogs.length > 0 ? `; it exports catalogs as: ${catalogs.join(', ')}` : '';
    throw new UsageError(`${modulePath} has no export "${exportName}"${found}`);
  }
  const catalog = exports[exportName];
  if (!isCatalog(catalog)) {
    throw new UsageError(
      `The export "${exportName}" of ${modulePath} is not a catalog: build it with defineCatalog`,
    );
  }
  return catalog;
}

async function run(options) {
  const catalog = await loadCatalog(options.module, options.exportName);
  if (options.out !== undefined) {
    const pages = eventPages(catalog);
    await mkdir(options.out, { recursive: true });
    for (const page of pages) await writeFile(join(options.out, page.file), page.markdown);
    console.log(`Wrote ${pages.length} pages to ${options.out}`);
  }
  if (options.asyncapi !== undefined) {
    const document = asyncApiDocument(catalog, { contentMode: options.contentMode });
    await mkdir(dirname(resolve(options.asyncapi)), { recursive: true });
    await writeFile(options.asyncapi, `${JSON.stringify(document, null, 2)}\n`);
    console.log(`Wrote the AsyncAPI ${document.asyncapi} document to ${options.asyncapi}`);
  }
}

/** An edakit error keeps its code, so it can be looked up in docs/errors.md. */
function describe(error) {
  return EdakitError.isInstance(error) ? `${error.code}: ${error.message}` : messageOf(error);
}

try {
  const options = parse(process.argv.slice(2));
  if (options.help) console.log(USAGE);
  else await run(options);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`edakit-catalog: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(`edakit-catalog: ${describe(error)}`);
    process.exitCode = 1;
  }
}
