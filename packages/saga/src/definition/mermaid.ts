import type { SagaDefinition } from './define-saga';

/** Mermaid state ids allow letters, digits and underscores only. */
const id = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');

/**
 * The saga as a Mermaid state diagram, for docs: one state per step, the
 * replies and timeouts that move it, retries after the pivot, and the
 * compensations (in the order they are sent) on the way to `compensated`.
 */
export function toMermaid<D>(definition: SagaDefinition<D>): string {
  const lines = ['stateDiagram-v2', `  %% saga "${definition.name}" v${definition.version}`];
  const pivot = definition.pivotIndex;
  const first = definition.steps[0];
  lines.push(
    `  [*] --> ${first ? id(first.name) : 'completed'}: ${definition.start.contract.type}`,
  );
  definition.steps.forEach((step, index) => {
    const next = definition.steps[index + 1];
    const state = id(step.name);
    const timeout = step.timeoutMs ?? definition.settings.stepTimeoutMs;
    lines.push(
      `  ${state}: ${step.name}${step.pivot ? ' (pivot)' : ''}\\nsends ${step.command.contract.type}`,
    );
    lines.push(
      `  ${state} --> ${next ? id(next.name) : 'completed'}: ${step.success.contract.type}`,
    );
    const failures = [step.failure?.contract.type, `timeout ${timeout} ms`]
      .filter(Boolean)
      .join(' / ');
    if (pivot >= 0 && index > pivot) lines.push(`  ${state} --> ${state}: ${failures} (retry)`);
    else lines.push(`  ${state} --> compensating: ${failures}`);
  });
  const compensations = [...definition.steps]
    .reverse()
    .filter((step) => step.compensation)
    .map((step) => step.compensation?.contract.type);
  lines.push(`  compensating --> compensated: ${compensations.join(', ') || 'nothing to undo'}`);
  lines.push(
    `  completed --> [*]${definition.completed ? `: sends ${definition.completed.contract.type}` : ''}`,
  );
  lines.push(
    `  compensated --> [*]${definition.compensated ? `: sends ${definition.compensated.contract.type}` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
