// Fused attention backward, key side: one thread per key j accumulates
// dv_j = sum_i p_ij dOut_i and dk_j = sum_i p_ij (dOut_i . v_j - Di) scale q_i over the queries
// that see it, with queries, dOut, lse and Di staged through shared memory QT at a time.
// Writes dk, dv (B, Tk, H, D). Params as attention-backward-query, 21 Di offset.

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> dout: array<f32>;
@group(0) @binding(6) var<storage, read> di: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

const D = __D__u;
const QT = __KT__u;
const KB = 64u;

var<workgroup> sq: array<f32, QT * D>;
var<workgroup> sg: array<f32, QT * D>;
var<workgroup> sl: array<vec2<f32>, QT>; // (lse, Di) per staged query

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tq = pu(1u); let tk = pu(2u); let nh = pu(3u);
  let scale = pf(4u);
  let causal = pu(5u) == 1u;
  let b = wid.y / nh;
  let h = wid.y % nh;
  let j = wid.x * KB + lid;
  let live = j < tk;
  let jc = min(j, tk - 1u);
  let shift = tk - tq;
  // Under the causal mask query t sees key j when t + shift >= j: the block's first such query.
  let first = select(0u, u32(max(i32(wid.x * KB) - i32(shift), 0)), causal);
  var kv: array<f32, D>;
  var vv: array<f32, D>;
  var gk: array<f32, D>;
  var gv: array<f32, D>;
  let ko = pu(10u) + b * pu(11u) + jc * pu(12u) + h * pu(13u);
  let vo = pu(14u) + b * pu(15u) + jc * pu(16u) + h * pu(17u);
  for (var d = 0u; d < D; d++) {
    kv[d] = k[ko + d];
    vv[d] = v[vo + d];
  }
  for (var t0 = first; t0 < tq; t0 += QT) {
    for (var e = lid; e < QT * D; e += KB) {
      let t = min(t0 + e / D, tq - 1u);
      sq[e] = q[pu(6u) + b * pu(7u) + t * pu(8u) + h * pu(9u) + e % D];
      sg[e] = dout[pu(20u) + ((b * tq + t) * nh + h) * D + e % D];
    }
    for (var e = lid; e < QT; e += KB) {
      let r = (b * nh + h) * tq + min(t0 + e, tq - 1u);
      sl[e] = vec2<f32>(lse[pu(19u) + r], di[pu(21u) + r]);
    }
    workgroupBarrier();
    for (var tt = 0u; tt < QT; tt++) {
      let t = t0 + tt;
      if (!live || t >= tq || (causal && t + shift < j)) { continue; }
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < D; d++) {
        s += sq[tt * D + d] * kv[d];
        dp += sg[tt * D + d] * vv[d];
      }
      let p = exp(s * scale - sl[tt].x);
      let ds = p * (dp - sl[tt].y) * scale;
      for (var d = 0u; d < D; d++) {
        gv[d] += p * sg[tt * D + d];
        gk[d] += ds * sq[tt * D + d];
      }
    }
    workgroupBarrier();
  }
  if (!live) { return; }
  let co = ((b * tk + j) * nh + h) * D;
  for (var d = 0u; d < D; d++) {
    dk[co + d] = gk[d];
    dv[co + d] = gv[d];
  }
}
