// attention-dscores: the gradient of the (scaled) scores, in place over dP = dOut v^T:
// ds = p * (dP - Di) * scale, with p (Z, Tq, Tk) from attention-probs and Di (one per query row)
// from attention-di, read at di[off + z * Tq + i]. Masked positions have p = 0, so ds = 0 there.
// Params: 0 n = Z * Tq * Tk, 1 Tk, 2 scale, 3 Di offset.

@group(0) @binding(1) var<storage, read> p: array<f32>;
@group(0) @binding(2) var<storage, read_write> dp: array<f32>;
@group(0) @binding(3) var<storage, read> di: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = threadId(wid, nwg, lid);
  if (e >= pu(0u)) { return; }
  let row = e / pu(1u);
  // Masked positions (p = 0) may hold stale dP (tiles the causal product skipped): write 0.
  let pv = p[e];
  dp[e] = select(pv * (dp[e] - di[pu(3u) + row]) * pf(2u), 0.0, pv == 0.0);
}
