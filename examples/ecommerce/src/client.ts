/** A small JSON client of the shop's HTTP API, used by the scenario and the tests. */
export class ShopClient {
  constructor(readonly baseUrl: string) {}

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  /** The body of a 2xx answer; throws with the error the API gave otherwise. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: answer } = await this.request<T>(method, path, body);
    if (status >= 300) throw new Error(`${method} ${path} -> ${status} ${JSON.stringify(answer)}`);
    return answer;
  }

  get = <T>(path: string) => this.call<T>('GET', path);
  post = <T>(path: string, body?: unknown) => this.call<T>('POST', path, body);

  /**
   * Places an order and returns its id. The orders service learns of customers
   * and products from their events, a moment after they are created: while it
   * answers UNKNOWN_CUSTOMER or UNKNOWN_PRODUCT, ask again (up to `timeoutMs`).
   */
  async placeOrder(
    customerId: string,
    lines: readonly { productId: string; quantity: number }[],
    timeoutMs = 20_000,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { status, body } = await this.request<{ orderId: string; error?: { code: string } }>(
        'POST',
        '/orders',
        { customerId, lines },
      );
      if (status === 201) return body.orderId;
      const unknown =
        body.error?.code === 'UNKNOWN_CUSTOMER' || body.error?.code === 'UNKNOWN_PRODUCT';
      if (!unknown || Date.now() > deadline) {
        throw new Error(`POST /orders -> ${status} ${JSON.stringify(body)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Polls `path` until `done` holds (404s count as not yet), or fails after `timeoutMs`. */
  async until<T>(path: string, done: (body: T) => boolean, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      const { status, body } = await this.request<T>('GET', path);
      last = body;
      if (status === 200 && done(body)) return body;
      if (Date.now() > deadline)
        throw new Error(`Timed out waiting on ${path}; last answer ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
