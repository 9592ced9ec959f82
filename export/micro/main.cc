// Draws one digit on a microcontroller: a latent vector from a small PRNG and Box-Muller,
// the int8 decoder run with TensorFlow Lite for Microcontrollers, the image printed as ASCII.
//
// A TEMPLATE: it was written against the TFLM C++ API but has NOT been compiled or run here
// (building TFLM needs its sources, which this project does not vendor). The Python TFLM
// interpreter (keras_vae.export.micro) runs the same file and kernels; see export/README.md.
//
// Files: decoder_int8_data.cc/.h from
//   python export/export_decoder.py runs/micro --out firmware --formats int8 --c-array
// Build: add this file and decoder_int8_data.cc to a TFLM project (e.g. the hello_world
// example's Makefile or CMake target) for your board.

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "decoder_int8_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {

alignas(16) uint8_t tensor_arena[kTensorArenaSize];

// xorshift32: a small PRNG without the C library's state.
uint32_t rng_state = 2463534242u;
uint32_t NextRandom() {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

float Uniform() { return (NextRandom() >> 8) * (1.0f / 16777216.0f) + 1e-7f; }

// Box-Muller: two uniforms -> one standard normal.
float StandardNormal() {
  return sqrtf(-2.0f * logf(Uniform())) * cosf(6.28318530718f * Uniform());
}

}  // namespace

int main() {
  const tflite::Model* model = tflite::GetModel(g_decoder_int8_model);
  // The ops of the default "micro" preset's int8 file; report.md lists the exact lines
  // for yours ("TFLM resolver").
  tflite::MicroMutableOpResolver<7> resolver;
  resolver.AddConv2D();
  resolver.AddDequantize();
  resolver.AddFullyConnected();
  resolver.AddLogistic();
  resolver.AddQuantize();
  resolver.AddReshape();
  resolver.AddResizeNearestNeighbor();

  tflite::MicroInterpreter interpreter(model, resolver, tensor_arena, kTensorArenaSize);
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    MicroPrintf("AllocateTensors failed: kTensorArenaSize too small?");
    return 1;
  }
  TfLiteTensor* z = interpreter.input(0);  // float32 (1, latent_dim)
  const int latent_dim = z->dims->data[1];
  for (int i = 0; i < latent_dim; ++i) z->data.f[i] = StandardNormal();
  if (interpreter.Invoke() != kTfLiteOk) {
    MicroPrintf("Invoke failed");
    return 1;
  }
  const TfLiteTensor* image = interpreter.output(0);  // float32 (1, 28, 28, 1) in [0, 1]
  const int height = image->dims->data[1], width = image->dims->data[2];
  const char* shades = " .:-=+*#%@";
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float value = image->data.f[y * width + x];
      putchar(shades[value >= 1.0f ? 9 : static_cast<int>(value * 10.0f)]);
    }
    putchar('\n');
  }
  return 0;
}
