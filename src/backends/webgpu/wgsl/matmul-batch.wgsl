// Included by the matmul kernels: where batch entry z's operands and output start. A batch entry is
// two-level, (outer, inner) = (z / P15, z % P15), each level with its own stride per operand
// (params 3/4/16 for a, 7/8/17 for b, 22/19/20 for the output; see matmul-tiled.wgsl).

struct MatmulBases {
  a: u32,
  b: u32,
  out: u32,
}

fn matmulBases(z: u32) -> MatmulBases {
  let outer = z / pu(15u);
  let inner = z % pu(15u);
  return MatmulBases(
    pu(3u) + outer * pu(16u) + inner * pu(4u),
    pu(7u) + outer * pu(17u) + inner * pu(8u),
    pu(22u) + outer * pu(20u) + inner * pu(19u),
  );
}
