import { randomHex } from '../../adapter/execution/pythonRunner/randomHex';

describe('randomHex', () => {
  it('gives the asked number of bytes as hex, never the same twice across pool refills', () => {
    const seen = new Set<string>();
    // 1,000 x 16 bytes is four refills of the 4 kB pool.
    for (let i = 0; i < 1000; i += 1) {
      const hex = randomHex(16);
      expect(hex).toMatch(/^[0-9a-f]{32}$/);
      seen.add(hex);
    }
    expect(seen.size).toBe(1000);
    expect(randomHex(8)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses more than a pool at once, and counts that are not a positive integer', () => {
    expect(() => randomHex(4097)).toThrow(RangeError);
    // A count that would move the pool's mark backwards would hand out bytes twice.
    for (const bad of [0, -16, 1.5]) expect(() => randomHex(bad)).toThrow(RangeError);
  });
});
