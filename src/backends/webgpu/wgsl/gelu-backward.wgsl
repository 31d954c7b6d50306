// geluBackward: dx = dy * gelu'(x), both contiguous. Params: 0 n, 1 x offset, 2 dy offset.
//!include math

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  out[i] = dy[pu(2u) + i] * geluGradF(x[pu(1u) + i]);
}
