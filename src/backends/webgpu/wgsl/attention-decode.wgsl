// attention-decode: the attention forward for a few queries over many keys (decoding with a KV
// cache: Tq = 1). One workgroup of W threads per (query, batch, head); the threads split the keys
// (thread w takes keys w, w + W, ...), each keeping an online softmax (max m, sum l, accumulator
// acc (D)); then the W partial results are merged through shared memory. Same outputs as the
// fused kernel (attention.wgsl): out (B, Tq, H, D), lse (B, H, Tq).
// D and W (threads, W * D <= 4096) are substituted per pipeline. Params as attention.wgsl, plus
// 22 the first batch row of this dispatch (grid y covers rows 22.. 22 + Y / H), 23 left padding on,
// 24.. each row's first real key (keyStarts; at most 40 rows a dispatch): keys before it are
// masked, and thread w takes the row's keys first + w, first + w + W, ..., so a row's result does
// not depend on its padding. A query that sees no key gets out 0 and lse -inf.

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

const D = __D__u;
const W = __W__u;

var<workgroup> sq: array<f32, D>;
var<workgroup> sacc: array<f32, W * D>;
var<workgroup> sm: array<f32, W>;
var<workgroup> sl: array<f32, W>;

@compute @workgroup_size(W)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tq = pu(1u); let tk = pu(2u); let nh = pu(3u);
  let t = wid.x;
  let row = wid.y / nh;
  let b = pu(22u) + row;
  let h = wid.y % nh;
  let visible = select(tk, t + tk - tq + 1u, pu(5u) == 1u);
  let first = select(0u, pu(24u + row), pu(23u) == 1u);
  let qo = pu(6u) + b * pu(7u) + t * pu(8u) + h * pu(9u);
  for (var d = lid; d < D; d += W) { sq[d] = q[qo + d] * pf(4u); }
  workgroupBarrier();
  var acc: array<f32, D>;
  var m = -3.4028234663852886e38;
  var l = 0.0;
  for (var j = first + lid; j < visible; j += W) {
    let ko = pu(10u) + b * pu(11u) + j * pu(12u) + h * pu(13u);
    let vo = pu(14u) + b * pu(15u) + j * pu(16u) + h * pu(17u);
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s += sq[d] * k[ko + d]; }
    let mNew = max(m, s);
    let corr = exp(m - mNew);
    let p = exp(s - mNew);
    l = l * corr + p;
    for (var d = 0u; d < D; d++) { acc[d] = acc[d] * corr + p * v[vo + d]; }
    m = mNew;
  }
  sm[lid] = m;
  workgroupBarrier();
  var mx = sm[0];
  for (var w = 1u; w < W; w++) { mx = max(mx, sm[w]); }
  // A thread that saw no key has l = 0: its weight exp(m - mx) multiplies zeros.
  let f = select(0.0, exp(m - mx), l > 0.0);
  sl[lid] = l * f;
  for (var d = 0u; d < D; d++) { sacc[lid * D + d] = acc[d] * f; }
  workgroupBarrier();
  var total = 0.0;
  for (var w = 0u; w < W; w++) { total += sl[w]; }
  let oo = ((b * tq + t) * nh + h) * D;
  let seen = total > 0.0;
  for (var d = lid; d < D; d += W) {
    var o = 0.0;
    for (var w = 0u; w < W; w++) { o += sacc[w * D + d]; }
    out[oo + d] = select(0.0, o / total, seen);
  }
  // -inf built at run time (a constant -inf is a WGSL error).
  let ninf = bitcast<f32>(0xff800000u | (lid & 0u));
  if (lid == 0u) { lse[(b * nh + h) * tq + t] = select(ninf, mx + log(total), seen); }
}
