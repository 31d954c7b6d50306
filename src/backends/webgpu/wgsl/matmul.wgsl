// matmul: out (B, M, N) = a (B|1, M, K) @ b (B|1, K, N), operands with any strides (transposed
// views are read in place). Tiled: a 64x64 output tile per 256-thread workgroup, 4x4 outputs per
// thread, K in steps of 16 staged through shared memory. Batch on grid z.
// Params: 0 M, 1 N, 2 K, 3 a offset, 4..6 a strides (batch, row, col; batch 0 when shared),
// 7 b offset, 8..10 b strides, 15..17 two-level batch: batch z is (z / 15, z % 15), operand
// offsets add outer * (16 | 17) + inner * (4 | 8) (see matmul-tiled); 23, 24 causal attention
// products (see matmul-tiled); the output is written at
// 22 + outer * 20 + inner * 19 + row * 18 + column (contiguous, or e.g. heads into (B, T, H, D)).

//!include matmul-batch

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const TM = 64u;
const TN = 64u;
const TK = 16u;

var<workgroup> sa: array<f32, 1024>; // TK x TM, k-major
var<workgroup> sb: array<f32, 1024>; // TK x TN

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m = pu(0u);
  let n = pu(1u);
  let k = pu(2u);
  let batch = wid.z;
  let bases = matmulBases(batch);
  let aBase = bases.a;
  let bBase = bases.b;
  let row0 = wid.y * TM;
  let col0 = wid.x * TN;
  let cm = pu(23u);
  let shift = pu(24u);
  if (cm == 1u && col0 > row0 + TM - 1u + shift) { return; }
  var kBegin = 0u;
  var kEnd = k;
  if (cm == 2u) { kEnd = min(k, row0 + TM + shift); }
  if (cm == 3u && row0 > shift) { kBegin = min(k, row0 - shift); }
  let tr = (lid / 16u) * 4u; // this thread's 4 rows and 4 columns inside the tile
  let tc = (lid % 16u) * 4u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    // Each thread stages 4 elements of the A tile and 4 of the B tile.
    for (var e = 0u; e < 4u; e++) {
      let idx = lid * 4u + e;
      let ar = idx / TK;
      let ak = idx % TK;
      let gr = row0 + ar;
      let gk = k0 + ak;
      sa[ak * TM + ar] = select(0.0, a[aBase + gr * pu(5u) + gk * pu(6u)], gr < m && gk < kEnd);
      let bk = idx / TN;
      let bc = idx % TN;
      let gk2 = k0 + bk;
      let gc = col0 + bc;
      sb[bk * TN + bc] = select(0.0, b[bBase + gk2 * pu(9u) + gc * pu(10u)], gk2 < kEnd && gc < n);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let av = vec4<f32>(sa[kk * TM + tr], sa[kk * TM + tr + 1u], sa[kk * TM + tr + 2u], sa[kk * TM + tr + 3u]);
      let bv = vec4<f32>(sb[kk * TN + tc], sb[kk * TN + tc + 1u], sb[kk * TN + tc + 2u], sb[kk * TN + tc + 3u]);
      acc[0] += av.x * bv;
      acc[1] += av.y * bv;
      acc[2] += av.z * bv;
      acc[3] += av.w * bv;
    }
    workgroupBarrier();
  }
  let oBase = bases.out;
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + tr + i;
    if (r >= m) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + tc + j;
      if (c < n) { out[oBase + r * pu(18u) + c] = acc[i][j]; }
    }
  }
}
