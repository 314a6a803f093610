// The hello-world flow with guest tracing on: the guest's spans, events and
// allocations go to a trace file that hyperlight-trace-dump reads
// (docs/tracing.md). Usage: tsx src/trace.ts <guest.elf> <trace file>
import { GuestBinary, HyperlightError, UninitializedSandbox } from '@hyperlight-ts/core';
import { GuestTracer } from '@hyperlight-ts/tracing';

const [guestPath = 'dist/hello-world-guest.elf', traceFile = 'hello-world.trace.jsonl'] = process.argv.slice(2);

try {
  const tracer = new GuestTracer({ level: 'info', runtimeSpans: true, memoryProfile: true, file: traceFile });
  const uninitialized = UninitializedSandbox.create(GuestBinary.fromFile(guestPath), { tracing: tracer });
  uninitialized.register('GetWeekday', { params: [], returns: 'string' }, () => 'Saturday');
  {
    using sandbox = uninitialized.evolve();
    for (const name of ['World', 'tracing']) console.log(sandbox.call('SayHello', 'string', name));
  }
  const { spans, events, allocs, dropped } = tracer.stats;
  console.log(`trace written to ${traceFile}: ${spans} spans, ${events} events, ${allocs} allocations, dropped ${JSON.stringify(dropped)}`);
} catch (error) {
  if (!(error instanceof HyperlightError)) throw error;
  console.error(`${error.code}: ${error.message}`);
  process.exitCode = 1;
}
