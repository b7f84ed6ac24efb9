/**
 * Preloaded into both servers by the benchmark (`node --expose-gc --import tsx --import
 * ./bench/lib/gc-on-signal.ts ...`): on SIGUSR2 it runs a full garbage collection and logs
 * `{"msg":"bench gc done"}`, so RSS samples compare live memory, not whatever garbage (Next start-up,
 * the TypeScript checker's warm-up, closed connections) happens to be uncollected. Inert otherwise.
 */
const collect = (globalThis as { gc?: () => void }).gc;

process.on("SIGUSR2", () => {
  if (collect) {
    collect();
    collect();
  }
  const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ msg: "bench gc done", collected: collect !== undefined, heapUsed, heapTotal, external, arrayBuffers })}\n`,
  );
});
