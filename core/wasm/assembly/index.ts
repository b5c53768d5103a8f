// The entry point of the kernel module: everything exported here is callable from JavaScript.
//
// Every kernel works on byte offsets into the one wasm memory, which JavaScript owns and
// allocates (see ../alloc.ts). No kernel allocates memory or checks its arguments: the core
// checks shapes before it calls a kernel.

export * from "./matmul";
export * from "./elementwise";
export * from "./reduce";
export * from "./layout";
export * from "./conv";
export * from "./direct";
export * from "./batchnorm";
export * from "./optim";

/** The first byte after the module's static data: JavaScript allocates from here on. */
export function heapBase(): usize {
  return __heap_base;
}
