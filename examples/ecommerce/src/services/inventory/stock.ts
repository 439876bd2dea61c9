/** Under this many units a product raises the low-stock alert. */
export const LOW_STOCK_THRESHOLD = 3;

export interface StockChange {
  productId: string;
  stock: number;
  change: number;
  lowStock: boolean;
}

interface Line {
  productId: string;
  quantity: number;
}

/**
 * Stock per product and what each order holds. Reservations are all or
 * nothing and keyed by order, so a redelivered command changes nothing twice.
 */
export class Stock {
  private readonly levels = new Map<string, number>();
  private readonly reservations = new Map<string, Line[]>();

  level(productId: string): number | undefined {
    return this.levels.get(productId);
  }

  set(productId: string, units: number): StockChange {
    const before = this.levels.get(productId) ?? 0;
    this.levels.set(productId, units);
    return this.describe(productId, units - before);
  }

  remove(productId: string): void {
    this.levels.delete(productId);
  }

  isReserved(orderId: string): boolean {
    return this.reservations.has(orderId);
  }

  /** Reserves every line, or none: the reason when one cannot be. */
  reserve(orderId: string, lines: readonly Line[]): StockChange[] | { refused: string } {
    const wanted = new Map<string, number>();
    for (const line of lines)
      wanted.set(line.productId, (wanted.get(line.productId) ?? 0) + line.quantity);
    for (const [productId, quantity] of wanted) {
      const level = this.levels.get(productId);
      if (level === undefined) return { refused: `unknown product ${productId}` };
      if (level < quantity)
        return { refused: `only ${level} of ${productId} in stock, ${quantity} wanted` };
    }
    this.reservations.set(
      orderId,
      [...wanted].map(([productId, quantity]) => ({ productId, quantity })),
    );
    return [...wanted].map(([productId, quantity]) => {
      const level = (this.levels.get(productId) ?? 0) - quantity;
      this.levels.set(productId, level);
      return this.describe(productId, -quantity);
    });
  }

  /** Puts an order's reservation back; nothing when it holds none (released already). */
  release(orderId: string): StockChange[] {
    const lines = this.reservations.get(orderId) ?? [];
    this.reservations.delete(orderId);
    return lines
      .filter((line) => this.levels.has(line.productId))
      .map(({ productId, quantity }) => {
        const level = (this.levels.get(productId) ?? 0) + quantity;
        this.levels.set(productId, level);
        return this.describe(productId, quantity);
      });
  }

  private describe(productId: string, change: number): StockChange {
    const stock = this.levels.get(productId) ?? 0;
    return { productId, stock, change, lowStock: stock < LOW_STOCK_THRESHOLD };
  }
}
