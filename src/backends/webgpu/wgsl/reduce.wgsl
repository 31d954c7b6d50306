// reduce: sum or max over some axes of a contiguous view, T = f32 or i32. The host splits the
// shape into kept dims (one output each, row-major) and reduced dims. One workgroup per output:
// its 256 threads stride over the reduced elements, then combine in shared memory. With P > 1
// parts, workgroup g reduces part g % P (elements [part * chunk, part * chunk + chunk)) of output
// g / P into out[g]: the first stage of a long reduction (the host then reduces the P partials).
// Params: 0 outputs, 1 kept rank, 2 reduced rank, 3 reduced count, 4 op (0 sum, 1 max), 5 offset,
// 6 initial value bits (0 or -inf),
// 8.. kept shape, 16.. kept strides, 24.. reduced shape, 32.. reduced strides, 40 P, 41 chunk.

@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;

var<workgroup> red: array<T, 256>;

fn combine(op: u32, acc: T, v: T) -> T {
  return select(max(acc, v), acc + v, op == 0u);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = groupId(wid, nwg);
  let o = g / pu(40u);
  let part = g % pu(40u);
  let op = pu(4u);
  let base = pu(5u) + select(0u, stridedOffset(o, pu(1u), 8u, 16u), o < pu(0u));
  var acc = bitcast<T>(pu(6u));
  let jEnd = min(pu(3u), part * pu(41u) + pu(41u));
  for (var j = part * pu(41u) + lid; j < jEnd; j += 256u) {
    let v = x[base + stridedOffset(j, pu(2u), 24u, 32u)];
    acc = combine(op, acc, v);
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = combine(op, red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u && o < pu(0u)) { out[g] = red[0]; }
}
