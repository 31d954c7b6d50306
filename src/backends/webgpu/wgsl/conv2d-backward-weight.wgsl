// conv2d backward for the weight: dw (O, C, kh, kw), one thread per weight, summing over the batch
// and every output position. Params as conv2d, with 0 = O*C*kh*kw, 11 x offset, 12 gy offset,
// 13 N.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  let c = pu(1u); let h = i32(pu(2u)); let wd = i32(pu(3u)); let o = pu(4u);
  let kh = pu(5u); let kw = pu(6u); let oh = pu(7u); let ow = pu(8u);
  let stride = i32(pu(9u)); let pad = i32(pu(10u));
  let b = i % kw;
  let a = (i / kw) % kh;
  let ci = (i / (kw * kh)) % c;
  let oc = i / (kw * kh * c);
  var s = 0.0;
  for (var n = 0u; n < pu(13u); n++) {
    for (var oy = 0u; oy < oh; oy++) {
      let iy = i32(oy) * stride - pad + i32(a);
      if (iy < 0 || iy >= h) { continue; }
      for (var ox = 0u; ox < ow; ox++) {
        let ix = i32(ox) * stride - pad + i32(b);
        if (ix < 0 || ix >= wd) { continue; }
        s += gy[pu(12u) + ((n * o + oc) * oh + oy) * ow + ox] *
             x[pu(11u) + ((n * c + ci) * u32(h) + u32(iy)) * u32(wd) + u32(ix)];
      }
    }
  }
  dw[i] = s;
}
