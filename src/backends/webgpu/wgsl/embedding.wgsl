// embedding: out (n, C) = rows of w (V, C) at ids (n, i32, checked by the caller where it can read).
// Params: 0 n * C, 1 C, 2 w offset, 3 ids offset.

@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  let c = pu(1u);
  out[i] = w[pu(2u) + u32(ids[pu(3u) + i / c]) * c + i % c];
}
