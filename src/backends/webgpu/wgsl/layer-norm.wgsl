// layerNorm over the last dim without affine, one workgroup per row: mean, then the variance of
// (x - mean) (two passes, as the reference), y = (x - mean) * rstd; mean and rstd kept for backward.
// Params: 0 rows, 1 cols, 2 offset, 3 eps.
//!include reduce-row

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = groupId(wid, nwg);
  let cols = pu(1u);
  let live = row < pu(0u);
  let base = pu(2u) + row * cols;
  var s = 0.0;
  for (var j = lid; j < cols && live; j += 256u) { s += x[base + j]; }
  let mu = wgSum(lid, s) / f32(cols);
  var v = 0.0;
  for (var j = lid; j < cols && live; j += 256u) { let d = x[base + j] - mu; v += d * d; }
  let rs = inverseSqrt(wgSum(lid, v) / f32(cols) + pf(3u));
  for (var j = lid; j < cols && live; j += 256u) { y[row * cols + j] = (x[base + j] - mu) * rs; }
  if (lid == 0u && live) {
    mean[row] = mu;
    rstd[row] = rs;
  }
}
