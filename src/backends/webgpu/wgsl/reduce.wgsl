// reduce: sum or max over some axes of a contiguous view, T = f32 or i32. The host splits the
// shape into kept dims (one output each, row-major) and reduced dims. One workgroup per output:
// its 256 threads stride over the reduced elements, then combine in shared memory.
// Params: 0 outputs, 1 kept rank, 2 reduced rank, 3 reduced count, 4 op (0 sum, 1 max), 5 offset,
// 6 initial value bits (0 or -inf),
// 8.. kept shape, 16.. kept strides, 24.. reduced shape, 32.. reduced strides.

@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;

var<workgroup> part: array<T, 256>;

fn combine(op: u32, acc: T, v: T) -> T {
  return select(max(acc, v), acc + v, op == 0u);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = groupId(wid, nwg);
  let op = pu(4u);
  let base = pu(5u) + select(0u, stridedOffset(o, pu(1u), 8u, 16u), o < pu(0u));
  var acc = bitcast<T>(pu(6u));
  for (var j = lid; j < pu(3u); j += 256u) {
    let v = x[base + stridedOffset(j, pu(2u), 24u, 32u)];
    acc = combine(op, acc, v);
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) { part[lid] = combine(op, part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u && o < pu(0u)) { out[o] = part[0]; }
}
