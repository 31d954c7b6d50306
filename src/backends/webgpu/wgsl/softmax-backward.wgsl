// softmax backward over the last dim, one workgroup per row. y is the forward output (softmax or
// log-softmax), dy the upstream gradient, both contiguous.
// softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy).
// Params: 0 rows, 1 cols, 2 y offset, 3 dy offset, 4 log.
//!include reduce-row

@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = groupId(wid, nwg);
  let cols = pu(1u);
  let live = row < pu(0u);
  let isLog = pu(4u) == 1u;
  let oy = pu(2u) + row * cols;
  let og = pu(3u) + row * cols;
  var s = 0.0;
  for (var j = lid; j < cols && live; j += 256u) { s += select(dy[og + j] * y[oy + j], dy[og + j], isLog); }
  s = wgSum(lid, s);
  for (var j = lid; j < cols && live; j += 256u) {
    let g = dy[og + j];
    let v = y[oy + j];
    out[row * cols + j] = select(v * (g - s), g - exp(v) * s, isLog);
  }
}
