import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { encode } from 'fast-png';
import { z } from 'zod';
import { defineJob } from '../../sdk/index.js';

export const MANDELBROT_ARTIFACT = 'mandelbrot.png';

/** One pixel's colour for an escape count: black inside the set, a smooth blue-to-gold ramp outside. */
function colour(escapedAt: number, iterations: number): [number, number, number] {
  if (escapedAt >= iterations) return [0, 0, 0];
  const t = Math.sqrt(escapedAt / iterations);
  return [Math.round(255 * Math.min(1, 1.8 * t)), Math.round(255 * t), Math.round(255 * (0.5 + 0.5 * (1 - t)))];
}

/**
 * Renders the Mandelbrot set into a PNG artifact: the shape of a GPU job that produces a file. Progress per row;
 * between rows it checks `ctx.signal` and yields to the event loop, so the lease timer and cancellation get
 * through however long the render takes.
 */
export default defineJob({
  type: 'mandelbrot',
  input: z.object({
    width: z.number().int().min(1).max(4096),
    height: z.number().int().min(1).max(4096),
    iterations: z.number().int().min(1).max(10_000),
  }),
  async handler({ width, height, iterations }, ctx) {
    const pixels = new Uint8Array(width * height * 3);
    // The classic view: x in [-2.5, 1], y centred, with the pixels kept square.
    const scale = Math.max(3.5 / width, 2.4 / height);
    const left = -0.75 - (width * scale) / 2;
    const top = -(height * scale) / 2;
    for (let row = 0; row < height; row += 1) {
      ctx.signal.throwIfAborted();
      const ci = top + row * scale;
      for (let col = 0; col < width; col += 1) {
        const cr = left + col * scale;
        let zr = 0;
        let zi = 0;
        let n = 0;
        while (n < iterations && zr * zr + zi * zi <= 4) {
          const next = zr * zr - zi * zi + cr;
          zi = 2 * zr * zi + ci;
          zr = next;
          n += 1;
        }
        pixels.set(colour(n, iterations), (row * width + col) * 3);
      }
      ctx.progress(((row + 1) / height) * 100, `row ${row + 1} of ${height}`);
      await yieldToEventLoop();
    }
    const png = encode({ width, height, data: pixels, channels: 3, depth: 8 });
    await ctx.artifact(MANDELBROT_ARTIFACT, png, 'image/png');
    return { width, height, iterations, artifact: MANDELBROT_ARTIFACT };
  },
});
