// Nearest upsampling of contiguous (N, C, H, W) by an integer factor f (mode 0), and its adjoint
// (mode 1: each input cell sums its f x f block of the gradient). One thread per output element.
// Params: 0 outputs, 1 H, 2 W (of the small side), 3 f, 4 offset, 5 mode.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  let h = pu(1u);
  let w = pu(2u);
  let f = pu(3u);
  let off = pu(4u);
  if (pu(5u) == 0u) {
    let ow = w * f;
    let plane = i / (h * f * ow);
    let y = (i / ow) % (h * f);
    let xx = i % ow;
    out[i] = x[off + (plane * h + y / f) * w + xx / f];
    return;
  }
  let plane = i / (h * w);
  let y = (i / w) % h;
  let xx = i % w;
  var s = 0.0;
  for (var a = 0u; a < f; a++) {
    for (var b = 0u; b < f; b++) {
      s += x[off + (plane * h * f + y * f + a) * w * f + xx * f + b];
    }
  }
  out[i] = s;
}
