// Works around linkedom replacing globalThis.MessageChannel (see report).
const native = globalThis.MessageChannel;
const { main } = await import("./lessons/run.ts");
globalThis.MessageChannel = native;
Deno.exit(await main(Deno.args));
