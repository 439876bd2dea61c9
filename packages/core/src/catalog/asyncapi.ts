import {
  type ContentMode,
  defaultHeaderNaming,
  type HeaderNaming,
  headerNamesOf,
  resolveContentMode,
} from '../codec/wire-message';
import { InvalidOptionsError } from '../errors/usage-errors';
import { assertCatalog, type Catalog, type CatalogEntry } from './catalog';
import { cloudEventsHeaders, cloudEventsStructured } from './cloudevents-headers';
import { type JsonSchema, rebaseRefs, toJsonSchema } from './json-schema';

/** A broker the document's channels live on. */
export interface AsyncApiServer {
  /** `host:port`, e.g. `kafka.internal:9092`. */
  host: string;
  /** `kafka`, `amqp`, ... */
  protocol: string;
  description?: string;
}

export interface AsyncApiOptions {
  /** Keyed by name: `{ production: { host: 'kafka:9092', protocol: 'kafka' } }`. */
  readonly servers?: Readonly<Record<string, AsyncApiServer>>;
  /**
   * How the transport names the CloudEvents headers: `ce_` (Kafka, memory; the
   * default) or the RabbitMQ transport's `AMQP_HEADER_NAMING` (`cloudEvents_`).
   */
  readonly headerNaming?: HeaderNaming;
  /**
   * The transport's `contentMode`: `binary` (default) documents the attribute
   * headers and the data as the payload; `structured`, the one content-type
   * header and the whole event document as the payload.
   */
  readonly contentMode?: ContentMode;
}

interface Reference {
  $ref: string;
}

interface Tag {
  name: string;
}

interface Channel {
  address: string;
  description: string;
  messages: Record<string, Reference>;
}

interface Operation {
  action: 'send' | 'receive';
  channel: Reference;
  messages: Reference[];
  title: string;
  summary: string;
  tags: Tag[];
}

interface Message {
  name: string;
  title: string;
  summary: string;
  contentType: string;
  headers: JsonSchema;
  /** The data's schema (binary mode), or the event document around it (structured). */
  payload: Reference | JsonSchema;
  correlationId: { description: string; location: string };
  tags: Tag[];
}

/**
 * An AsyncAPI 3.0.0 document: a fresh plain object, to write as JSON or to
 * extend (bindings, security) before writing. A type rather than an interface,
 * so it is assignable to `Record<string, unknown>`, which JSON tools and the
 * AsyncAPI parser take.
 */
export type AsyncApiDocument = {
  asyncapi: '3.0.0';
  info: { title: string; version: string; description?: string };
  defaultContentType: 'application/json';
  servers?: Record<string, AsyncApiServer>;
  /** One per contract channel (Kafka topic), carrying its event types. */
  channels: Record<string, Channel>;
  /** `<type>.send` for the producer, `<type>.receive.<consumer>` per consumer. */
  operations: Record<string, Operation>;
  components: {
    /** The data of each event type, by type. */
    schemas: Record<string, JsonSchema>;
    /** Each event type's message: CloudEvents headers and data, by type. */
    messages: Record<string, Message>;
  };
};

/**
 * The catalog as an AsyncAPI 3.0.0 document. Event types are used as message
 * ids unchanged: AsyncAPI allows letters, digits, `.`, `-` and `_` in them, as
 * edakit does in types and channels.
 */
export function asyncApiDocument(
  catalog: Catalog,
  options: AsyncApiOptions = {},
): AsyncApiDocument {
  assertCatalog(catalog);
  const naming = options.headerNaming ?? defaultHeaderNaming;
  const mode = resolveContentMode(options.contentMode, 'asyncApiDocument');
  const document: AsyncApiDocument = {
    asyncapi: '3.0.0',
    info: { title: catalog.title, version: catalog.version },
    defaultContentType: 'application/json',
    channels: {},
    operations: {},
    components: { schemas: {}, messages: {} },
  };
  if (catalog.description) document.info.description = catalog.description;
  if (options.servers !== undefined) document.servers = checkServers(options.servers);
  const operationIds = new Set<string>();
  const operationId = (wanted: string) => {
    let id = wanted;
    for (let count = 2; operationIds.has(id); count++) id = `${wanted}-${count}`;
    operationIds.add(id);
    return id;
  };
  for (const entry of catalog.events) {
    const { type, channel } = entry.contract;
    const schemaPointer = `#/components/schemas/${pointerToken(type)}`;
    document.components.schemas[type] = rebaseRefs(
      toJsonSchema(entry.contract.schema),
      schemaPointer,
    );
    document.components.messages[type] = message(entry, schemaPointer, naming, mode);
    const carrier = document.channels[channel] ?? {
      address: channel,
      description: '',
      messages: {},
    };
    carrier.messages[type] = { $ref: `#/components/messages/${pointerToken(type)}` };
    carrier.description = `Carries ${Object.keys(carrier.messages).join(', ')}.`;
    document.channels[channel] = carrier;
    const target = {
      channel: { $ref: `#/channels/${pointerToken(channel)}` },
      messages: [{ $ref: `#/channels/${pointerToken(channel)}/messages/${pointerToken(type)}` }],
    };
    document.operations[operationId(`${type}.send`)] = {
      action: 'send',
      ...target,
      title: `${entry.producer} sends ${type}`,
      summary: entry.contract.description,
      tags: [{ name: entry.producer }],
    };
    for (const consumer of entry.consumers) {
      document.operations[operationId(`${type}.receive.${idPart(consumer)}`)] = {
        action: 'receive',
        ...target,
        title: `${consumer} receives ${type}`,
        summary: entry.contract.description,
        tags: [{ name: consumer }],
      };
    }
  }
  return document;
}

function message(
  entry: CatalogEntry,
  schemaPointer: string,
  naming: HeaderNaming,
  mode: ContentMode,
): Message {
  const described = {
    name: entry.contract.type,
    title: entry.contract.type,
    summary: entry.contract.description,
  };
  const tags = [{ name: entry.kind }];
  const correlation = 'Shared by every event of one conversation.';
  if (mode === 'structured') {
    const { headers, payload } = cloudEventsStructured(
      entry.contract,
      { $ref: schemaPointer },
      naming,
    );
    return {
      ...described,
      contentType: 'application/cloudevents+json',
      headers,
      payload,
      correlationId: { description: correlation, location: '$message.payload#/correlationid' },
      tags,
    };
  }
  const correlationHeader = headerNamesOf(naming).correlationid;
  return {
    ...described,
    contentType: 'application/json',
    headers: cloudEventsHeaders(entry.contract, naming),
    payload: { $ref: schemaPointer },
    correlationId: {
      description: correlation,
      location: `$message.header#/${pointerToken(correlationHeader)}`,
    },
    tags,
  };
}

function checkServers(
  servers: Readonly<Record<string, AsyncApiServer>>,
): Record<string, AsyncApiServer> {
  const checked: Record<string, AsyncApiServer> = {};
  for (const [name, server] of Object.entries(servers)) {
    const { host, protocol, description } = server ?? {};
    if (
      typeof host !== 'string' ||
      host === '' ||
      typeof protocol !== 'string' ||
      protocol === ''
    ) {
      throw new InvalidOptionsError(`AsyncAPI server "${name}" needs a host and a protocol`, {
        server: name,
      });
    }
    checked[name] =
      description === undefined ? { host, protocol } : { host, protocol, description };
  }
  return checked;
}

/** A service name as part of an operation id: AsyncAPI ids keep to `[A-Za-z0-9._-]`. */
function idPart(name: string): string {
  return name.trim().replace(/[^A-Za-z0-9._-]+/g, '-');
}

/** A JSON Pointer token (RFC 6901): `~` and `/` escaped. */
function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
