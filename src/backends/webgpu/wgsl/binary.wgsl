// binary: out = a op b with broadcasting (stride 0 on broadcast dims), T = f32 or i32.
// Params: 0 n, 1 rank, 2 a offset, 3 b offset, 4 op (add sub mul div maximum greater = 0..5),
// 5 both contiguous, 8.. shape, 16.. a strides, 24.. b strides.

@group(0) @binding(1) var<storage, read> a: array<T>;
@group(0) @binding(2) var<storage, read> b: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;

fn apply(op: u32, x: T, y: T) -> T {
  switch op {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    // NaN in either operand gives NaN (x + y carries it); the comparison is false for NaN.
    case 4u: { return select(x + y, max(x, y), x == x && y == y); }
    default: { return select(T(0), T(1), x > y); }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = threadId(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  var ia = pu(2u) + i;
  var ib = pu(3u) + i;
  if (pu(5u) == 0u) {
    ia = pu(2u) + stridedOffset(i, pu(1u), 8u, 16u);
    ib = pu(3u) + stridedOffset(i, pu(1u), 8u, 24u);
  }
  out[i] = apply(pu(4u), a[ia], b[ib]);
}
