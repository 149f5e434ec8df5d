/** @module Test helper: asserts that a call throws FormatError naming exactly the field at fault. */
import { expect } from 'vitest';
import { FormatError } from '../applet-spec/errors.js';

export function expectFormatError(fn: () => unknown, what: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected FormatError(${what})`).toBeInstanceOf(FormatError);
  expect((caught as FormatError).what).toBe(what);
}
