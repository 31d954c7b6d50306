// conv2d backward for the input: dx (N, C, H, W), one thread per input element, gathering every
// (output position, filter tap) that read it. Params as conv2d, with 0 = N*C*H*W, 11 gy offset,
// 12 w offset.

@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  let c = pu(1u); let h = pu(2u); let wd = pu(3u); let o = pu(4u);
  let kh = pu(5u); let kw = pu(6u); let oh = i32(pu(7u)); let ow = i32(pu(8u));
  let stride = i32(pu(9u)); let pad = i32(pu(10u));
  let ix = i32(i % wd);
  let iy = i32((i / wd) % h);
  let ci = (i / (wd * h)) % c;
  let n = i / (wd * h * c);
  var s = 0.0;
  for (var a = 0u; a < kh; a++) {
    let ty = iy + pad - i32(a); // = oy * stride
    if (ty < 0 || ty % stride != 0 || ty / stride >= oh) { continue; }
    for (var b = 0u; b < kw; b++) {
      let tx = ix + pad - i32(b);
      if (tx < 0 || tx % stride != 0 || tx / stride >= ow) { continue; }
      let pos = u32(ty / stride) * u32(ow) + u32(tx / stride);
      for (var oc = 0u; oc < o; oc++) {
        s += gy[pu(11u) + (n * o + oc) * u32(oh * ow) + pos] * w[pu(12u) + ((oc * c + ci) * kh + a) * kw + b];
      }
    }
  }
  dx[i] = s;
}
