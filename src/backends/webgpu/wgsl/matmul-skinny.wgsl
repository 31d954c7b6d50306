// matmul-skinny: out (B, M, N) = a (B|1, M, K) @ b (B|1, K, N) for M <= 16 (decoding steps,
// where a tiled kernel would leave most of the GPU idle and loop K serially). A 256-thread
// workgroup computes 8 columns for all M rows: 32 lanes per column split K (lane l takes k = l,
// l + 32, ...; adjacent lanes read adjacent elements of a weight row stored (N, K)), and the 32
// partial sums meet in shared memory. The rows of a pass through shared memory KC columns at a time. Batch on grid z, two-level as in matmul.wgsl.
// Params: as matmul.wgsl (0 M, 1 N, 2 K, 3..6 a, 7..10 b, 15..17 two-level batch, 18..22 output layout).

//!include matmul-batch

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const MAXM = 16u;
const KC = 128u; // K elements of a staged per step
var<workgroup> sa: array<f32, MAXM * KC>;
var<workgroup> red: array<f32, MAXM * 256u>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m = pu(0u);
  let n = pu(1u);
  let k = pu(2u);
  let batch = wid.z;
  let bases = matmulBases(batch);
  let aBase = bases.a;
  let bBase = bases.b;
  let cg = lid / 32u;
  let lane = lid % 32u;
  let col = wid.x * 8u + cg;
  var acc: array<f32, MAXM>;
  for (var k0 = 0u; k0 < k; k0 += KC) {
    // Stage a[0..m, k0..k0 + KC) once for the workgroup (every column reads all of it).
    for (var e = lid; e < m * KC; e += 256u) {
      let kk = k0 + e % KC;
      sa[e] = select(0.0, a[aBase + (e / KC) * pu(5u) + kk * pu(6u)], kk < k);
    }
    workgroupBarrier();
    if (col < n) {
      for (var i = lane; i < KC && k0 + i < k; i += 32u) {
        let bv = b[bBase + (k0 + i) * pu(9u) + col * pu(10u)];
        for (var r = 0u; r < m; r++) { acc[r] += sa[r * KC + i] * bv; }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < m; r++) { red[r * 256u + lid] = acc[r]; }
  workgroupBarrier();
  if (lid < m * 8u) {
    let r = lid / 8u;
    let c = lid % 8u;
    let oc = wid.x * 8u + c;
    if (oc < n) {
      var s = 0.0;
      for (var l = 0u; l < 32u; l++) { s += red[r * 256u + c * 32u + l]; }
      out[bases.out + r * pu(18u) + oc] = s;
    }
  }
}
