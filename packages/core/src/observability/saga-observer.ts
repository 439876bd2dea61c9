/**
 * What a saga runtime reports, for metrics: `prometheusMetrics().saga`
 * implements it. Every method is optional; what it throws is ignored.
 */
export interface SagaObserver {
  /** A new instance of `saga` started. */
  onSagaStarted?(observation: { readonly saga: string }): void;
  /** An instance finished: every step succeeded, or it compensated. */
  onSagaFinished?(observation: {
    readonly saga: string;
    readonly status: 'completed' | 'compensated';
  }): void;
  /** A timer fired: a step's reply deadline passed (`reply`) or a re-send came due (`retry`). */
  onSagaTimeout?(observation: { readonly saga: string; readonly kind: 'reply' | 'retry' }): void;
}

/** How many instances of a saga have a status, as its store holds them. */
export interface SagaInstanceCount {
  readonly saga: string;
  readonly status: 'running' | 'completed' | 'compensated';
  readonly count: number;
}

/**
 * What `prometheusMetrics({ sagas })` watches: a saga runtime (`@edakit/saga`)
 * is one. Its instance counts are read at scrape time; its observers are told
 * of each instance started or finished and each timer fired.
 */
export interface SagaFiguresSource {
  instanceCounts(): Promise<readonly SagaInstanceCount[]>;
  /** Attaches an observer; returns the function that detaches it. */
  observe?(observer: SagaObserver): () => void;
}
