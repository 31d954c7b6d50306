// attention-softmax: the attention forward's row softmax, in place over the scores s (Z, Tq, Tk)
// = q k^T: p = exp(scale s - lse) over the keys query i sees (causal: j <= i + Tk - Tq), 0
// elsewhere, and lse = log sum exp(scale s) per row, written at lse[off + z * Tq + i]. One
// 256-thread workgroup per row.
// Params: 0 rows = Z * Tq, 1 Tq, 2 Tk, 3 scale, 4 causal, 5 lse offset.

@group(0) @binding(1) var<storage, read_write> s: array<f32>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = groupId(wid, nwg);
  if (row >= pu(0u)) { return; }
  let tq = pu(1u);
  let tk = pu(2u);
  let scale = pf(3u);
  let i = row % tq;
  let visible = select(tk, min(tk, i + tk - tq + 1u), pu(4u) == 1u);
  let base = row * tk;
  // Rows of up to 8 * 256 keys stay in registers (one read of s); longer ones are re-read.
  var vals: array<f32, 8>;
  let held = tk <= 2048u;
  var m = -3.4028234663852886e38;
  for (var u = 0u; u < 8u; u++) {
    let j = lid + u * 256u;
    if (held && j < visible) {
      vals[u] = s[base + j] * scale;
      m = max(m, vals[u]);
    }
  }
  if (!held) {
    for (var j = lid; j < visible; j += 256u) { m = max(m, s[base + j] * scale); }
  }
  red[lid] = m;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid < w) { red[lid] = max(red[lid], red[lid + w]); }
    workgroupBarrier();
  }
  let mx = red[0];
  workgroupBarrier();
  var l = 0.0;
  if (held) {
    for (var u = 0u; u < 8u; u++) {
      if (lid + u * 256u < visible) { vals[u] = exp(vals[u] - mx); l += vals[u]; }
    }
  } else {
    for (var j = lid; j < visible; j += 256u) { l += exp(s[base + j] * scale - mx); }
  }
  red[lid] = l;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid < w) { red[lid] += red[lid + w]; }
    workgroupBarrier();
  }
  let total = red[0];
  if (held) {
    let inv = 1.0 / total;
    for (var u = 0u; u < 8u; u++) {
      let j = lid + u * 256u;
      if (j < tk) { s[base + j] = select(0.0, vals[u] * inv, j < visible); }
    }
  } else {
    for (var j = lid; j < tk; j += 256u) {
      s[base + j] = select(0.0, exp(s[base + j] * scale - mx) / total, j < visible);
    }
  }
  if (lid == 0u) { lse[pu(5u) + row] = mx + log(total); }
}
