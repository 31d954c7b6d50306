// Fused attention backward, query side: one thread per query computes Di = dOut_i . out_i and
// dq_i = sum_j p_ij (dOut_i . v_j - Di) scale k_j with p_ij = exp(scale q_i . k_j - lse_i),
// keys staged through shared memory as in the forward. Writes dq (B, Tq, H, D) and Di (B, H, Tq)
// for the key-side kernel. Params as attention, plus 18 out offset, 19 lse offset, 20 dOut offset
// (out and dOut contiguous (B, Tq, H, D)).

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> o: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> dout: array<f32>;
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;
@group(0) @binding(8) var<storage, read_write> di: array<f32>;

const D = __D__u;
const KT = __KT__u;
const QB = 64u;

var<workgroup> sk: array<f32, KT * D>;
var<workgroup> sv: array<f32, KT * D>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tq = pu(1u); let tk = pu(2u); let nh = pu(3u);
  let scale = pf(4u);
  let causal = pu(5u) == 1u;
  let b = wid.y / nh;
  let h = wid.y % nh;
  let t = wid.x * QB + lid;
  let live = t < tq;
  let tc = min(t, tq - 1u);
  let shift = tk - tq;
  let kEnd = select(tk, min(tk, min(wid.x * QB + QB, tq) + shift), causal);
  let myLast = select(tk - 1u, t + shift, causal);
  var qv: array<f32, D>;
  var gv: array<f32, D>;
  var acc: array<f32, D>;
  let qo = pu(6u) + b * pu(7u) + tc * pu(8u) + h * pu(9u);
  let co = ((b * tq + tc) * nh + h) * D;
  var dsum = 0.0;
  for (var d = 0u; d < D; d++) {
    qv[d] = q[qo + d];
    gv[d] = dout[pu(20u) + co + d];
    dsum += gv[d] * o[pu(18u) + co + d];
  }
  let l = lse[pu(19u) + (b * nh + h) * tq + tc];
  for (var k0 = 0u; k0 < kEnd; k0 += KT) {
    for (var e = lid; e < KT * D; e += QB) {
      let j = min(k0 + e / D, tk - 1u);
      sk[e] = k[pu(10u) + b * pu(11u) + j * pu(12u) + h * pu(13u) + e % D];
      sv[e] = v[pu(14u) + b * pu(15u) + j * pu(16u) + h * pu(17u) + e % D];
    }
    workgroupBarrier();
    for (var jj = 0u; jj < KT; jj++) {
      let j = k0 + jj;
      if (!live || j >= tk || j > myLast) { continue; }
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < D; d++) {
        s += qv[d] * sk[jj * D + d];
        dp += gv[d] * sv[jj * D + d];
      }
      let p = exp(s * scale - l);
      let ds = p * (dp - dsum) * scale;
      for (var d = 0u; d < D; d++) { acc[d] += ds * sk[jj * D + d]; }
    }
    workgroupBarrier();
  }
  if (!live) { return; }
  for (var d = 0u; d < D; d++) { dq[co + d] = acc[d]; }
  di[(b * nh + h) * tq + t] = dsum;
}
