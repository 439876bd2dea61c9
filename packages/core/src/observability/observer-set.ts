import type {
  BusObserver,
  DeadLetterObservation,
  HandlerObservation,
  PublishObservation,
  RetryObservation,
} from './bus-observer';

/**
 * The observers of one bus. `active` is the only cost on the bus's path
 * while none is attached; an observer that throws is ignored.
 */
export class ObserverSet {
  private observers: readonly BusObserver[] = [];

  get active(): boolean {
    return this.observers.length > 0;
  }

  /** Attaches `observer`; the returned function detaches it (idempotent). */
  add(observer: BusObserver): () => void {
    this.observers = [...this.observers, observer];
    return () => {
      this.observers = this.observers.filter((existing) => existing !== observer);
    };
  }

  publish(observation: PublishObservation): void {
    for (const observer of this.observers) {
      safely(() => observer.onPublish?.(observation));
    }
  }

  handlerAttempt(observation: HandlerObservation): void {
    for (const observer of this.observers) {
      safely(() => observer.onHandlerAttempt?.(observation));
    }
  }

  retry(observation: RetryObservation): void {
    for (const observer of this.observers) {
      safely(() => observer.onRetry?.(observation));
    }
  }

  deadLetter(observation: DeadLetterObservation): void {
    for (const observer of this.observers) {
      safely(() => observer.onDeadLetter?.(observation));
    }
  }
}

function safely(call: () => void): void {
  try {
    call();
  } catch {
    // An observer must not decide an event's fate.
  }
}
