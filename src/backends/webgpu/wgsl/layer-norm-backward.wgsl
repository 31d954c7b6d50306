// layerNorm backward, one workgroup per row: with xhat = (x - mean) * rstd,
// dx = rstd * (dy - mean(dy) - xhat * mean(dy * xhat)).
// Params: 0 rows, 1 cols, 2 x offset, 3 dy offset, 4 mean offset, 5 rstd offset.
//!include reduce-row

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = groupId(wid, nwg);
  let cols = pu(1u);
  let live = row < pu(0u);
  let r = select(0u, row, live);
  let ox = pu(2u) + r * cols;
  let og = pu(3u) + r * cols;
  let mu = mean[pu(4u) + r];
  let rs = rstd[pu(5u) + r];
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = lid; j < cols && live; j += 256u) {
    let g = dy[og + j];
    sg += g;
    sgx += g * (x[ox + j] - mu) * rs;
  }
  sg = wgSum(lid, sg) / f32(cols);
  sgx = wgSum(lid, sgx) / f32(cols);
  for (var j = lid; j < cols && live; j += 256u) {
    out[r * cols + j] = rs * (dy[og + j] - sg - (x[ox + j] - mu) * rs * sgx);
  }
}
