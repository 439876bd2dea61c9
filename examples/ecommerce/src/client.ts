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
