// cross-entropy total: loss = sum of row losses / number of counted rows (NaN when none), and
// that count. One workgroup. Params: 0 rows, 1 NaN's bits (WGSL constants cannot be NaN).
//!include reduce-row

@group(0) @binding(1) var<storage, read> rows: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> count: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var c = 0.0;
  for (var r = lid; r < pu(0u); r += 256u) {
    s += rows[r].x;
    c += rows[r].y;
  }
  s = wgSum(lid, s);
  c = wgSum(lid, c);
  if (lid == 0u) {
    loss[0] = select(s / c, pf(1u), c == 0.0);
    count[0] = c;
  }
}
