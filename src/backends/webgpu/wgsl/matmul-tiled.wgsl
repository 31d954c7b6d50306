// matmul-tiled: out (B, M, N) = a (B|1, M, K) @ b (B|1, K, N) for large M and N; operands with any
// strides (transposed views are read in place). A 128x128 output tile per 256-thread workgroup
// (16 x 16 threads); each thread keeps 8x8 outputs in registers, as two 4-row by two 4-column
// quads 64 apart (rows ty*4.. and 64+ty*4.., columns tx*4.. and 64+tx*4..), so that its shared
// memory reads are four vec4s per k and neighbouring threads read neighbouring vec4s. K advances
// in steps of BK (__BK__) staged through shared memory, k-major: sa[k][0..127] as 32 vec4s.
// Global loads follow the operand's unit stride (flags in params 11, 12) so they coalesce whether
// a weight is read as stored or transposed.
// Split K: when the output has too few tiles to fill the GPU (weight gradients: M, N = C..4C, K =
// tokens), grid z runs splits x batch, split s sums k in [s*KC, (s+1)*KC) into its own slice
// out[(s * batches + batch)] and matmul-split-sum adds the slices.
// Causal attention products (param 23, with 24 = Tk - Tq): 1 skips output tiles wholly above the
// diagonal (col > row + shift: scores no query sees), 2 stops K at row + shift (P v, dS k: keys a
// query sees), 3 starts K at row - shift (P^T dOut, dS^T q: queries that see a key). Rows are
// bounded per tile, so the diagonal tiles still compute (zeros) past it.
// Params: 0 M, 1 N, 2 K, 3 a offset, 4..6 a strides (batch, row, col; batch 0 when shared),
// 7 b offset, 8..10 b strides, 11 a is k-contiguous, 12 b is n-contiguous, 13 KC (K per split,
// a multiple of BK), 14 batches, 15..17 two-level batch (below), 23 causal mode, 24 shift.
// Two-level batch: batch z is (z / 15, z % 15); operand offsets add outer * (16 | 17) + inner *
// (4 | 8), so (B, T, H, D) attention views batch over (b, h) without copies. The output element
// (row, col) of batch entry z goes to 22 + split * 21 + outer * 20 + inner * 19 + row * 18 + col.

//!include matmul-batch

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const BM = 128u;
const BN = 128u;
const BK = __BK__u;
const LOADS = BM * BK / 256u; // elements of each operand tile one thread stages per K step

var<workgroup> sa: array<vec4<f32>, BK * 32u>; // BK x BM, k-major
var<workgroup> sb: array<vec4<f32>, BK * 32u>; // BK x BN, k-major

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m = pu(0u);
  let n = pu(1u);
  let k = pu(2u);
  let batches = pu(14u);
  let batch = wid.z % batches;
  let split = wid.z / batches;
  var kBegin = split * pu(13u);
  var kEnd = min(k, kBegin + pu(13u));
  let bases = matmulBases(batch);
  let aBase = bases.a;
  let bBase = bases.b;
  let aRow = pu(5u);
  let aCol = pu(6u);
  let bRow = pu(9u);
  let bCol = pu(10u);
  let aKFast = pu(11u) == 1u;
  let bNFast = pu(12u) == 1u;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let cm = pu(23u);
  let shift = pu(24u);
  if (cm == 1u && col0 > row0 + BM - 1u + shift) { return; }
  if (cm == 2u) { kEnd = min(kEnd, row0 + BM + shift); }
  if (cm == 3u && row0 > shift) { kBegin = max(kBegin, row0 - shift); }
  let tx = lid % 16u;
  let ty = lid / 16u;
  var acc: array<vec4<f32>, 16>; // acc[r * 2 + h]: row r of the thread's 8 (0..3 then 64+0..3), column quad h
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    for (var e = 0u; e < LOADS; e++) {
      let idx = e * 256u + lid;
      // A tile element (ar, ak): consecutive threads take consecutive addresses of a.
      var ar = idx / BK;
      var ak = idx % BK;
      if (!aKFast) {
        ar = idx % BM;
        ak = idx / BM;
      }
      let gr = row0 + ar;
      let gk = k0 + ak;
      let av = select(0.0, a[aBase + gr * aRow + gk * aCol], gr < m && gk < kEnd);
      sa[ak * 32u + ar / 4u][ar % 4u] = av;
      var bk = idx / BN;
      var bc = idx % BN;
      if (!bNFast) {
        bk = idx % BK;
        bc = idx / BK;
      }
      let gk2 = k0 + bk;
      let gc = col0 + bc;
      let bv = select(0.0, b[bBase + gk2 * bRow + gc * bCol], gk2 < kEnd && gc < n);
      sb[bk * 32u + bc / 4u][bc % 4u] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let a0 = sa[kk * 32u + ty];
      let a1 = sa[kk * 32u + 16u + ty];
      let b0 = sb[kk * 32u + tx];
      let b1 = sb[kk * 32u + 16u + tx];
      acc[0] += a0.x * b0;
      acc[1] += a0.x * b1;
      acc[2] += a0.y * b0;
      acc[3] += a0.y * b1;
      acc[4] += a0.z * b0;
      acc[5] += a0.z * b1;
      acc[6] += a0.w * b0;
      acc[7] += a0.w * b1;
      acc[8] += a1.x * b0;
      acc[9] += a1.x * b1;
      acc[10] += a1.y * b0;
      acc[11] += a1.y * b1;
      acc[12] += a1.z * b0;
      acc[13] += a1.z * b1;
      acc[14] += a1.w * b0;
      acc[15] += a1.w * b1;
    }
    workgroupBarrier();
  }
  let oBase = bases.out + split * pu(21u);
  for (var r = 0u; r < 8u; r++) {
    let gr = row0 + select(64u + ty * 4u + r - 4u, ty * 4u + r, r < 4u);
    if (gr >= m) { continue; }
    for (var h = 0u; h < 2u; h++) {
      let c0 = col0 + h * 64u + tx * 4u;
      let v = acc[r * 2u + h];
      for (var j = 0u; j < 4u; j++) {
        if (c0 + j < n) { out[oBase + gr * pu(18u) + c0 + j] = v[j]; }
      }
    }
  }
}
