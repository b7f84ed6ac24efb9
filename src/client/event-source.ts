/**
 * The slice of the browser's EventSource the client uses, so tests can drive a fake. The real
 * `EventSource` satisfies it: named frames arrive as MessageEvents with string `data`; a transport
 * failure is a plain Event without `data` (both under the type "error").
 */
export interface MessageEventLike {
  readonly data?: unknown;
  readonly lastEventId?: string;
}

export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageEventLike) => void): void;
  close(): void;
}

export type EventSourceFactory = (url: string) => EventSourceLike;

export const browserEventSource: EventSourceFactory = (url) => {
  if (typeof EventSource === "undefined") throw new Error("EventSource is not available in this environment");
  return new EventSource(url);
};
