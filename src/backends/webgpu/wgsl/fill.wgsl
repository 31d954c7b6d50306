// fill: a contiguous buffer of n words, all one value, or (mode 1) up to 48 values carried in the
// parameters themselves: small uploads ride in the command stream, ordered with the kernels.
// Params: 0 n, 1 mode, 2 value bits, 16.. values (mode 1).

@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  if (pu(1u) == 1u) {
    out[i] = pu(16u + i);
  } else {
    out[i] = pu(2u);
  }
}
