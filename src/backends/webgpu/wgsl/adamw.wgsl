// AdamW (torch.optim.AdamW semantics), in place on p, m, v; g read. Params: 0 n, 1 p offset,
// 2 g offset, 3 m offset, 4 v offset, 8 lr, 9 beta1, 10 beta2, 11 eps, 12 weight decay,
// 13 bc1 = 1 - beta1^t, 14 bc2 = 1 - beta2^t (floats).

@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> p: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  let lr = pf(8u);
  let b1 = pf(9u);
  let b2 = pf(10u);
  let gi = g[pu(2u) + i];
  let mi = b1 * m[pu(3u) + i] + (1.0 - b1) * gi;
  let vi = b2 * v[pu(4u) + i] + (1.0 - b2) * gi * gi;
  m[pu(3u) + i] = mi;
  v[pu(4u) + i] = vi;
  let pi0 = p[pu(1u) + i] * (1.0 - lr * pf(12u));
  p[pu(1u) + i] = pi0 - (lr * (mi / pf(13u))) / (sqrt(vi / pf(14u)) + pf(11u));
}
