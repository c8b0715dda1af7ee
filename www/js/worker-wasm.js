// The engine's wasm package, one per backend: pkg/ holds WebGPU's engine,
// pkg-cpu/ the CPU fallback's (scripts/build-page.sh), so a browser downloads
// and compiles only the engine it trains on. Every module of the worker reads
// the package through `wasm` (a live binding), so all of them use the one the
// worker's `init` command loaded for its backend. Loaded on that command, not
// by a top-level await: a module worker dispatches the page's messages before
// such an await ends, to no handler yet.

/** The package's JS glue, once `load` has run: its default export initialises the module. */
export let wasm = null;

/** Import the package of `backend` ('cpu' or 'webgpu'). */
export async function load(backend) {
  wasm = await import(backend === 'cpu' ? '../../pkg-cpu/vaelab.js' : '../../pkg/vaelab.js');
  return wasm;
}
