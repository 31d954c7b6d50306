// attention-di: Di = dOut_i . out_i for every query row, ordered (B, H, Tq) like lse; out and
// dOut are contiguous (B, Tq, H, D). One thread per row.
// Params: 0 rows = B * H * Tq, 1 Tq, 2 H, 3 D, 4 out offset, 5 dOut offset.

@group(0) @binding(1) var<storage, read> o: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> di: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = threadId(wid, nwg, lid);
  if (r >= pu(0u)) { return; }
  let tq = pu(1u);
  let nh = pu(2u);
  let d = pu(3u);
  let i = r % tq;
  let h = (r / tq) % nh;
  let b = r / (tq * nh);
  let base = ((b * tq + i) * nh + h) * d;
  var acc = 0.0;
  for (var c = 0u; c < d; c++) { acc += o[pu(4u) + base + c] * dout[pu(5u) + base + c]; }
  di[r] = acc;
}
