import type { Bus, PreparedEvent } from '@edakit/core';
import { createPostgresOutbox, type PostgresOutbox } from '@edakit/outbox';
import type { Pool } from 'pg';
import type { OrderRecord, OrderRepository, OrderState } from './order-record';

interface Row {
  order_id: string;
  customer_id: string;
  lines: OrderRecord['lines'];
  total: string;
  currency: string;
  status: OrderState;
  reason: string | null;
  placed_at: Date;
}

const toRecord = (row: Row): OrderRecord => ({
  orderId: row.order_id,
  customerId: row.customer_id,
  lines: row.lines,
  total: Number(row.total),
  currency: row.currency,
  status: row.status,
  ...(row.reason === null ? {} : { reason: row.reason }),
  placedAt: row.placed_at.toISOString(),
});

/**
 * Orders in PostgreSQL: the order row and its events (the outbox table) in
 * one transaction, relayed to the broker by the outbox relay.
 */
export class PostgresOrderRepository implements OrderRepository {
  readonly outbox;
  readonly commits;
  private readonly postgres: PostgresOutbox;

  private constructor(
    private readonly pool: Pool,
    private readonly table: string,
    postgres: PostgresOutbox,
  ) {
    this.postgres = postgres;
    this.outbox = postgres.store;
    this.commits = postgres.commits;
  }

  /** Creates the tables if needed (their names carry the shop's namespace). */
  static async open(
    pool: Pool,
    bus: Bus,
    tables: { readonly ordersTable: string; readonly outboxTable: string },
  ): Promise<PostgresOrderRepository> {
    const postgres = createPostgresOutbox({ pool, bus, table: tables.outboxTable });
    await postgres.migrate();
    const table = tables.ordersTable;
    await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (
      order_id text PRIMARY KEY,
      customer_id text NOT NULL,
      lines jsonb NOT NULL,
      total numeric NOT NULL,
      currency char(3) NOT NULL,
      status text NOT NULL,
      reason text,
      placed_at timestamptz NOT NULL
    )`);
    return new PostgresOrderRepository(pool, table, postgres);
  }

  async place(order: OrderRecord, events: readonly PreparedEvent[]): Promise<void> {
    await this.postgres.transaction(async (client) => {
      await client.query(
        `INSERT INTO ${this.table} (order_id, customer_id, lines, total, currency, status, reason, placed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          order.orderId,
          order.customerId,
          JSON.stringify(order.lines),
          order.total,
          order.currency,
          order.status,
          order.reason ?? null,
          order.placedAt,
        ],
      );
      await this.postgres.addPrepared(client, events);
    });
  }

  async move(
    orderId: string,
    from: readonly OrderState[],
    to: OrderState,
    events: (order: OrderRecord) => readonly PreparedEvent[],
    reason?: string,
  ): Promise<OrderRecord | undefined> {
    return this.postgres.transaction(async (client) => {
      const { rows } = await client.query<Row>(
        `UPDATE ${this.table} SET status = $2, reason = COALESCE($4, reason)
         WHERE order_id = $1 AND status = ANY($3::text[]) RETURNING *`,
        [orderId, to, from, reason ?? null],
      );
      const row = rows[0];
      if (!row) return undefined;
      const moved = toRecord(row);
      await this.postgres.addPrepared(client, events(moved));
      return moved;
    });
  }

  async get(orderId: string): Promise<OrderRecord | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.table} WHERE order_id = $1`, [
      orderId,
    ]);
    return rows[0] && toRecord(rows[0]);
  }

  async list(limit: number): Promise<OrderRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${this.table} ORDER BY placed_at DESC LIMIT $1`,
      [limit],
    );
    return rows.map(toRecord).reverse();
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
