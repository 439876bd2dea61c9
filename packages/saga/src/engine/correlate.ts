import type { AnyEventContract, ConsumedEvent } from '@edakit/core';
import type { SagaDefinition } from '../definition/define-saga';

/** The saga id an event belongs to: the start event's `correlate`, a reply's own `correlate`, else its correlationid. */
export function sagaIdOf<D>(
  definition: SagaDefinition<D>,
  event: ConsumedEvent<AnyEventContract>,
): string {
  if (event.type === definition.start.contract.type) return definition.start.correlate(event);
  for (const step of definition.steps) {
    for (const spec of [step.success, step.failure]) {
      if (spec?.contract.type === event.type && spec.correlate) return spec.correlate(event);
    }
  }
  return event.correlationid;
}
