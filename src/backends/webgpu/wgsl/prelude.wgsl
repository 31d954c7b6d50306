// Prelude of every kernel: the per-dispatch parameter block (64 words, one 256-byte slot of the
// batch's uniform buffer; floats are passed as their bits) and index helpers. Storage bindings
// start at 1. A grid is 2-D so that more than 65535 workgroups fit: id = (y * nx + x).

@group(0) @binding(0) var<uniform> P: array<vec4<u32>, 16>;

fn pu(i: u32) -> u32 { return P[i >> 2u][i & 3u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }

/** Index of a workgroup in a 2-D grid. */
fn groupId(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.y * nwg.x + wid.x; }

/** Index of a thread in a 2-D grid of 256-thread workgroups. */
fn threadId(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 { return groupId(wid, nwg) * 256u + lid; }

/** Element offset of row-major index i in a view whose shape starts at word `shapeAt`, strides at `strideAt`. */
fn stridedOffset(i: u32, rank: u32, shapeAt: u32, strideAt: u32) -> u32 {
  var rem = i;
  var off = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let n = pu(shapeAt + u32(d));
    off += (rem % n) * pu(strideAt + u32(d));
    rem /= n;
  }
  return off;
}
