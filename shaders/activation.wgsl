// Activations shared by shaders/elementwise.wgsl (unary ops, gated) and shaders/matmul.wgsl (the
// epilogue), so that a fused activation computes exactly what the separate op does. The host
// appends this file and the UNARY_* op codes (src/ops/elementwise.ts) to both sources.

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_C: f32 = 0.044715;

fn safe_tanh(x: f32) -> f32 {
  // tanh(x) = sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}): never overflows, unlike the exp form.
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

// Activation `op` (a UNARY_* code) of x; any other code leaves x as it is.
fn activate(op: u32, x: f32) -> f32 {
  switch op {
    case UNARY_RELU: { return select(x, 0.0, x <= 0.0); }
    case UNARY_GELU: { return 0.5 * x * (1.0 + safe_tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))); }
    case UNARY_TANH: { return safe_tanh(x); }
    case UNARY_SIGMOID: { return 1.0 / (1.0 + exp(-x)); }
    default: { return x; }
  }
}
