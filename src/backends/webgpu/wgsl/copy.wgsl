// copy: a strided view -> a contiguous buffer, bit for bit (any 32-bit dtype).
// Params: 0 n, 1 rank, 2 offset, 8.. shape, 16.. strides.

@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  out[i] = x[pu(2u) + stridedOffset(i, pu(1u), 8u, 16u)];
}
