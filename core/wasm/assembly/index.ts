// The entry point of the kernel module: everything exported here is callable from JavaScript.
//
// Every kernel works on byte offsets into the one wasm memory, which JavaScript owns and
// allocates (see ../alloc.ts). No kernel allocates memory itself.

export { matmul, matmulScratchBytes } from "./matmul";

/** The first byte after the module's static data: JavaScript allocates from here on. */
export function heapBase(): usize {
  return __heap_base;
}
