import type { AnyEventContract, ConsumedEvent } from '@edakit/core';
import pg from 'pg';

type Event = ConsumedEvent<AnyEventContract>;

/** The PostgreSQL table of the order-summary's archive, per shop namespace. */
export const orderSummaryArchiveTable = (namespace: string): string =>
  `${namespace}_order_summary_events`;

/**
 * The events a read model was built from, kept in PostgreSQL where the broker
 * keeps no log (RabbitMQ): each one as its consumer received it (after
 * upcasting), once per event id. Replaying them in id order (UUIDv7: creation
 * order) rebuilds the model, at start or on demand.
 */
export class EventArchive {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
  ) {}

  static async open(connectionString: string, table: string): Promise<EventArchive> {
    const pool = new pg.Pool({ connectionString, max: 3 });
    try {
      await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (
        id text PRIMARY KEY,
        type text NOT NULL,
        event jsonb NOT NULL
      )`);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new EventArchive(pool, table);
  }

  /** Keeps the event; a redelivered one is kept once. */
  async append(event: Event): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table} (id, type, event) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
      [event.id, event.type, JSON.stringify(event)],
    );
  }

  /** Every archived event, oldest first, in pages. */
  async replay(apply: (event: Event) => void): Promise<number> {
    let after = '';
    let count = 0;
    for (;;) {
      const { rows } = await this.pool.query<{ id: string; event: Event }>(
        `SELECT id, event FROM ${this.table} WHERE id > $1 ORDER BY id LIMIT 1000`,
        [after],
      );
      for (const row of rows) apply(row.event);
      count += rows.length;
      const last = rows.at(-1);
      if (!last) return count;
      after = last.id;
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
