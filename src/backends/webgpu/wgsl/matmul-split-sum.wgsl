// matmul-split-sum: out[i] = sum over s of partial[s * n + i], the slices a split-K matmul wrote.
// Params: 0 n (elements of the output), 1 splits.

@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  let n = pu(0u);
  if (i >= n) { return; }
  var acc = 0.0;
  for (var s = 0u; s < pu(1u); s++) { acc += partial[s * n + i]; }
  out[i] = acc;
}
