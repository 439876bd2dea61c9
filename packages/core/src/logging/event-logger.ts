import type { EventEnvelope } from '../envelope/event-envelope';
import type { Logger } from './logger';
import { traceLogFields } from './trace-fields';

/**
 * A handler's `ctx.logger`: every line gets the event's id, type, correlation
 * id and trace, the group, the handler and the attempt, the call's own fields
 * winning. Made per handler call, so it only keeps references: the fields are
 * built when a line is written. A class, not an object literal with a getter,
 * so that contexts keep fast properties and survive a spread (`{ ...ctx }`).
 */
export class EventLogger implements Logger {
  constructor(
    private readonly base: Logger,
    private readonly event: EventEnvelope,
    private readonly group: string,
    private readonly handler: string,
    private readonly attempt: number,
  ) {}

  debug(fields: Record<string, unknown>, message: string): void {
    this.base.debug(this.fields(fields), message);
  }

  info(fields: Record<string, unknown>, message: string): void {
    this.base.info(this.fields(fields), message);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.base.warn(this.fields(fields), message);
  }

  error(fields: Record<string, unknown>, message: string): void {
    this.base.error(this.fields(fields), message);
  }

  private fields(more: Record<string, unknown>): Record<string, unknown> {
    const { event } = this;
    return {
      eventId: event.id,
      eventType: event.type,
      correlationId: event.correlationid,
      ...traceLogFields(event.traceparent),
      group: this.group,
      handler: this.handler,
      attempt: this.attempt,
      ...more,
    };
  }
}
