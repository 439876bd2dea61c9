import { assertCatalog, type Catalog, type CatalogEntry } from './catalog';
import { toJsonSchema } from './json-schema';
import { fenced, table } from './markdown';
import { dataType, type FieldRow, schemaFields } from './schema-fields';

/** A generated Markdown file: a path relative to the output folder, and its text. */
export interface CatalogPage {
  readonly file: string;
  readonly markdown: string;
}

const GENERATED =
  '<!-- Generated from the event catalog by edakit: edit the catalog and its contracts, not this file. -->';

/**
 * The catalog as Markdown: `index.md`, listing the events by producer, then
 * one page per event (`<type>.md`) with its fields, example and history.
 */
export function eventPages(catalog: Catalog): CatalogPage[] {
  assertCatalog(catalog);
  return [
    { file: 'index.md', markdown: indexPage(catalog) },
    ...catalog.events.map((entry) => ({
      file: pageFile(entry),
      markdown: eventPage(entry),
    })),
  ];
}

function pageFile(entry: CatalogEntry): string {
  return `${entry.contract.type}.md`;
}

function indexPage(catalog: Catalog): string {
  const byProducer = new Map<string, CatalogEntry[]>();
  for (const entry of catalog.events) {
    byProducer.set(entry.producer, [...(byProducer.get(entry.producer) ?? []), entry]);
  }
  const sections = [...byProducer.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([producer, entries]) => {
      const rows = [...entries]
        .sort((a, b) => a.contract.type.localeCompare(b.contract.type))
        .map((entry) => [
          `[${entry.contract.type}](${pageFile(entry)})`,
          entry.kind,
          `v${entry.contract.version}`,
          `\`${entry.contract.channel}\``,
          consumerList(entry),
          entry.contract.description,
        ]);
      const header = ['Event', 'Kind', 'Version', 'Channel', 'Consumers', 'Description'];
      return `## ${producer}\n\n${table(header, rows)}`;
    });
  return document([
    `# ${catalog.title}`,
    `Catalog version ${catalog.version}.`,
    ...(catalog.description ? [catalog.description] : []),
    'Events by producer:',
    ...sections,
  ]);
}

function eventPage(entry: CatalogEntry): string {
  const { contract } = entry;
  const parts = [
    `# ${contract.type}`,
    contract.description,
    [
      `- **Kind:** ${entry.kind}`,
      `- **Producer:** ${entry.producer}`,
      `- **Consumers:** ${consumerList(entry)}`,
      `- **Channel:** \`${contract.channel}\``,
      `- **Current version:** ${contract.version}`,
    ].join('\n'),
    '## Fields',
    fieldsSection(entry),
  ];
  if (entry.example !== undefined) {
    parts.push('## Example', fenced('json', JSON.stringify(entry.example, null, 2)));
  }
  parts.push('## Change history', historyTable(entry));
  return document(parts);
}

function fieldsSection(entry: CatalogEntry): string {
  const schema = toJsonSchema(entry.contract.schema);
  const rows = schemaFields(schema);
  if (rows.length === 0) return `The data is of type \`${dataType(schema)}\`.`;
  const header = ['Field', 'Type', 'Required', 'Constraints', 'Description'];
  return table(header, rows.map(fieldCells));
}

function fieldCells(row: FieldRow): string[] {
  const required = row.required === undefined ? '' : row.required ? 'yes' : 'no';
  return [
    `\`${row.name}\``,
    `\`${row.type}\``,
    required,
    row.constraints.join(', '),
    row.description ?? '',
  ];
}

/**
 * Every version from 1, with its change note and how consumers read events
 * still written in it: through the upcaster chain, checked first against the
 * old schema when the contract remembers it (contracts built with `evolve`).
 */
function historyTable(entry: CatalogEntry): string {
  const { contract } = entry;
  const rows: string[][] = [];
  for (let version = 1; version <= contract.version; version++) {
    const note = entry.changes.get(version) ?? (version === 1 ? 'First version.' : '');
    rows.push([
      version === contract.version ? `${version} (current)` : String(version),
      note,
      version === contract.version ? 'read as is' : readingOf(entry, version),
    ]);
  }
  return table(['Version', 'Changes', 'Events of this version'], rows);
}

function readingOf(entry: CatalogEntry, version: number): string {
  const upcast = `upcast to v${version + 1}`;
  return entry.contract.previousSchemas.has(version)
    ? `validated against the v${version} schema, then ${upcast}`
    : upcast;
}

function consumerList(entry: CatalogEntry): string {
  return entry.consumers.length === 0 ? 'none yet' : entry.consumers.join(', ');
}

function document(parts: readonly string[]): string {
  return `${[GENERATED, ...parts].join('\n\n')}\n`;
}
