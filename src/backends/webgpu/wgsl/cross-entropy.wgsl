// cross-entropy, per row (one workgroup each): lse = log(sum(exp(logits))) computed stably, and
// the row's loss lse - logits[target] with a count of 1, or 0 and 0 when the target is ignored.
// cross-entropy-total then sums the rows. Params: 0 rows, 1 V, 2 logits offset, 3 targets offset,
// 4 ignore index (i32).
//!include reduce-row

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> rows: array<vec2<f32>>; // (loss, counted) per row

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = groupId(wid, nwg);
  let v = pu(1u);
  let live = row < pu(0u);
  let r = select(0u, row, live);
  let base = pu(2u) + r * v;
  var m = -3.4028234663852886e38;
  for (var j = lid; j < v && live; j += 256u) { m = max(m, logits[base + j]); }
  m = wgMax(lid, m);
  var s = 0.0;
  for (var j = lid; j < v && live; j += 256u) { s += exp(logits[base + j] - m); }
  let l = m + log(wgSum(lid, s));
  if (lid == 0u && live) {
    lse[r] = l;
    let t = targets[pu(3u) + r];
    if (t == pi(4u)) {
      rows[r] = vec2<f32>(0.0, 0.0);
    } else {
      rows[r] = vec2<f32>(l - logits[base + u32(t)], 1.0);
    }
  }
}
