/** Injected wherever time decides an outcome (windows, expiries, due dates), so tests can move it. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
