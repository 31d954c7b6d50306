// cross-entropy backward: dlogits = gy / count * (softmax - onehot(target)) on counted rows, 0 on
// ignored rows. gy and count are scalars read from device buffers (no round trip to the host).
// Params: 0 rows * V, 1 V, 2 logits offset, 3 targets offset, 4 lse offset, 5 count offset,
// 6 gy offset, 7 ignore index (i32).

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> count: array<f32>;
@group(0) @binding(5) var<storage, read> gy: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  let v = pu(1u);
  let r = i / v;
  let j = i % v;
  let t = targets[pu(3u) + r];
  if (t == pi(7u)) {
    out[i] = 0.0;
    return;
  }
  let scale = gy[pu(6u)] / count[pu(5u)];
  let p = exp(logits[pu(2u) + i] - lse[pu(4u) + r]);
  out[i] = scale * (p - select(0.0, 1.0, u32(t) == j));
}
