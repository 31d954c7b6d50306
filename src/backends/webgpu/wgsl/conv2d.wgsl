// conv2d: x (N, C, H, W) * w (O, C, kh, kw) -> (N, O, oh, ow), zero padding, square stride,
// contiguous inputs. Direct form: one thread per output element.
// Params: 0 outputs, 1 C, 2 H, 3 W, 4 O, 5 kh, 6 kw, 7 oh, 8 ow, 9 stride, 10 pad,
// 11 x offset, 12 w offset.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  let c = pu(1u); let h = i32(pu(2u)); let wd = i32(pu(3u)); let o = pu(4u);
  let kh = pu(5u); let kw = pu(6u); let oh = pu(7u); let ow = pu(8u);
  let stride = i32(pu(9u)); let pad = i32(pu(10u));
  let ox = i % ow;
  let oy = (i / ow) % oh;
  let oc = (i / (ow * oh)) % o;
  let n = i / (ow * oh * o);
  var s = 0.0;
  for (var ci = 0u; ci < c; ci++) {
    for (var a = 0u; a < kh; a++) {
      let iy = i32(oy) * stride - pad + i32(a);
      if (iy < 0 || iy >= h) { continue; }
      for (var b = 0u; b < kw; b++) {
        let ix = i32(ox) * stride - pad + i32(b);
        if (ix < 0 || ix >= wd) { continue; }
        s += x[pu(11u) + ((n * c + ci) * u32(h) + u32(iy)) * u32(wd) + u32(ix)] *
             w[pu(12u) + ((oc * c + ci) * kh + a) * kw + b];
      }
    }
  }
  out[i] = s;
}
