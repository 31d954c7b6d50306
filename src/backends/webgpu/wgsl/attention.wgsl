// Fused attention forward (flash-style: no T x T scores). One thread per query, 64 queries of one
// (batch, head) per workgroup; keys and values pass through shared memory KT at a time while each
// thread keeps an online softmax (running max m, sum l, accumulator). The queries are the last Tq
// of Tk positions: under the causal mask query t sees keys up to t + Tk - Tq.
// D (head dim) and KT are substituted per pipeline.
// Params: 0 B, 1 Tq, 2 Tk, 3 H, 4 scale, 5 causal, 6 q offset, 7..9 q strides (b, t, h),
// 10 k offset, 11..13 k strides, 14 v offset, 15..17 v strides.

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

const D = __D__u;
const KT = __KT__u;
const QB = 64u;

var<workgroup> sk: array<f32, KT * D>;
var<workgroup> sv: array<f32, KT * D>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tq = pu(1u); let tk = pu(2u); let nh = pu(3u);
  let causal = pu(5u) == 1u;
  let b = wid.y / nh;
  let h = wid.y % nh;
  let t = wid.x * QB + lid;
  let live = t < tq;
  let shift = tk - tq;
  let kEnd = select(tk, min(tk, min(wid.x * QB + QB, tq) + shift), causal);
  let myLast = select(tk - 1u, t + shift, causal);
  var qv: array<f32, D>;
  var acc: array<f32, D>;
  let qo = pu(6u) + b * pu(7u) + min(t, tq - 1u) * pu(8u) + h * pu(9u);
  for (var d = 0u; d < D; d++) { qv[d] = q[qo + d] * pf(4u); }
  var m = -3.4028234663852886e38;
  var l = 0.0;
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
      for (var d = 0u; d < D; d++) { s += qv[d] * sk[jj * D + d]; }
      let mNew = max(m, s);
      let corr = exp(m - mNew);
      let p = exp(s - mNew);
      l = l * corr + p;
      for (var d = 0u; d < D; d++) { acc[d] = acc[d] * corr + p * sv[jj * D + d]; }
      m = mNew;
    }
    workgroupBarrier();
  }
  if (!live) { return; }
  let oo = ((b * tq + t) * nh + h) * D;
  for (var d = 0u; d < D; d++) { out[oo + d] = acc[d] / l; }
  lse[(b * nh + h) * tq + t] = m + log(l);
}
