// unary: elementwise math on a contiguous f32 view. The op is a parameter (uniform branch).
// Params: 0 n, 1 offset, 2 op (neg exp log sqrt tanh sigmoid relu gelu abs = 0..8).
//!include math

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn apply(op: u32, v: f32) -> f32 {
  switch op {
    case 0u: { return -v; }
    case 1u: { return exp(v); }
    case 2u: { return log(v); }
    case 3u: { return sqrt(v); }
    case 4u: { return tanhF(v); }
    case 5u: { return 1.0 / (1.0 + exp(-v)); }
    case 6u: { return select(0.0, v, v > 0.0 || v != v); }
    case 7u: { return geluF(v); }
    default: { return abs(v); }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  out[i] = apply(pu(2u), x[pu(1u) + i]);
}
