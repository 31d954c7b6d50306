// cast: contiguous SRC -> contiguous DST (f32 -> i32 truncates toward zero, as WGSL's i32() does).
// Params: 0 n, 1 offset.

@group(0) @binding(1) var<storage, read> x: array<SRC>;
@group(0) @binding(2) var<storage, read_write> out: array<DST>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  out[i] = DST(x[pu(1u) + i]);
}
