// Scalar math WGSL lacks: erfc (Numerical Recipes' erfcc, relative error < 1.2e-7 everywhere,
// so GELU keeps its precision where 1 + erf(x) cancels), exact-erf GELU and its derivative, and a
// tanh that does not overflow for large |x|.

fn erfcF(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let r = t * exp(-z * z + poly);
  return select(2.0 - r, r, x >= 0.0);
}

fn geluF(x: f32) -> f32 { return 0.5 * x * erfcF(-x * 0.70710678118654752); }

/** d/dx gelu(x) = Phi(x) + x phi(x). */
fn geluGradF(x: f32) -> f32 {
  return 0.5 * erfcF(-x * 0.70710678118654752) + x * 0.39894228040143268 * exp(-0.5 * x * x);
}

fn tanhF(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
