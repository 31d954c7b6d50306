// reduce-thread: sum or max over some axes, one thread per output looping over the reduced
// elements: for many outputs with few elements each (a bias-like gradient summed over the batch:
// (B, T, C) -> (T, C)), where a workgroup per output would leave most of its threads idle.
// Params as reduce.wgsl (0..6, kept shape/strides at 8/16, reduced shape/strides at 24/32).

@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = threadId(wid, nwg, lid);
  if (o >= pu(0u)) { return; }
  let base = pu(5u) + stridedOffset(o, pu(1u), 8u, 16u);
  var acc = bitcast<T>(pu(6u));
  for (var j = 0u; j < pu(3u); j++) {
    let v = x[base + stridedOffset(j, pu(2u), 24u, 32u)];
    acc = select(max(acc, v), acc + v, pu(4u) == 0u);
  }
  out[o] = acc;
}
