// embedding backward: dW (V, C), zeroed by the host, += dy (n, C) rows at ids. Rows repeat, so
// the add is an atomic compare-exchange loop on the float's bits (WGSL has no float atomics);
// the order of the additions, and so the last bits of a repeated row, may vary between runs.
// Params: 0 n * C, 1 C, 2 ids offset, 3 dy offset.

@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<atomic<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  let c = pu(1u);
  let at = u32(ids[pu(2u) + i / c]) * c + i % c;
  let g = dy[pu(3u) + i];
  var old = atomicLoad(&dw[at]);
  loop {
    let r = atomicCompareExchangeWeak(&dw[at], old, bitcast<u32>(bitcast<f32>(old) + g));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}
