// attention-probs: the attention backward's probabilities, recomputed in place from the scores:
// s (Z, Tq, Tk) contiguous holds q k^T; p = exp(scale s - lse) where query i sees key j (causal:
// j <= i + Tk - Tq), else 0. lse (from the forward) is read at lse[off + z * Tq + i].
// Params: 0 n = Z * Tq * Tk, 1 Tq, 2 Tk, 3 scale, 4 causal, 5 lse offset.

@group(0) @binding(1) var<storage, read_write> s: array<f32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = threadId(wid, nwg, lid);
  if (e >= pu(0u)) { return; }
  let tq = pu(1u);
  let tk = pu(2u);
  let row = e / tk; // z * Tq + i
  let j = e % tk;
  let i = row % tq;
  if (pu(4u) == 1u && j > i + tk - tq) {
    s[e] = 0.0;
    return;
  }
  s[e] = exp(s[e] * pf(3u) - lse[pu(5u) + row]);
}
