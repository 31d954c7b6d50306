// softmax / log-softmax over the last dim of a contiguous view: one 256-thread workgroup per row
// (max, then sum of exp, then the outputs). Params: 0 rows, 1 cols, 2 offset, 3 log.
//!include reduce-row

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = groupId(wid, nwg);
  let cols = pu(1u);
  let live = row < pu(0u); // barriers need every thread, so rows past the end run along idle
  let base = pu(2u) + select(0u, row * cols, live);
  var m = -3.4028234663852886e38;
  for (var j = lid; j < cols && live; j += 256u) { m = max(m, x[base + j]); }
  m = wgMax(lid, m);
  var s = 0.0;
  for (var j = lid; j < cols && live; j += 256u) { s += exp(x[base + j] - m); }
  s = wgSum(lid, s);
  let ls = log(s);
  for (var j = lid; j < cols && live; j += 256u) {
    let z = x[base + j] - m;
    out[row * cols + j] = select(exp(z) / s, z - ls, pu(3u) == 1u);
  }
}
