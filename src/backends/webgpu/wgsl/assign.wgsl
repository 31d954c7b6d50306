// assign: dst (any strides, no overlap) <- src (same shape, any strides), in place, bit for bit.
// Params: 0 n, 1 rank, 2 dst offset, 3 src offset, 8.. shape, 16.. dst strides, 24.. src strides.

@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  dst[pu(2u) + stridedOffset(i, pu(1u), 8u, 16u)] = src[pu(3u) + stridedOffset(i, pu(1u), 8u, 24u)];
}
