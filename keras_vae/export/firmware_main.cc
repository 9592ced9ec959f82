// keras-vae firmware: draws images from a latent mixture with the int8 decoder running under
// TensorFlow Lite for Microcontrollers (TFLM). `keras-vae firmware` generates the two headers
// and builds this file for a Cortex-M4 (keras_vae/export/firmware.py); docs/guides/firmware.md
// is the guide.
//
//   decoder POOL SEED N [z]
//
// POOL: a component of the mixture table (0..K-1, e.g. a class pool), or -1 for the whole
// mixture (a component drawn by weight per image). SEED: 0..4294967295. N: images, 1..65535.
// `z` also prints each latent vector. Output, one line each:
//   firmware MODEL_HASH ARENA_USED ARENA_SIZE
//   z POOL SEED INDEX COMPONENT ZBITS QINPUT   (with `z`: float32 bits, 8 hex digits each;
//                                               the int8 model input, 2 hex digits each)
//   image POOL SEED INDEX HEX                   (round(255 * pixel), 2 hex digits each)
// Any problem prints one line `error ...` and exits non-zero.
//
// The noise must be reproducible off the board bit for bit (keras_vae.export.firmware has the
// same steps in numpy float32), so it uses only +, -, *, / and sqrt, which IEEE 754 rounds the
// same everywhere, in a fixed order; it is compiled with -ffp-contract=off (no fused
// multiply-add). The C library's logf/cosf differ between libraries in the last bit.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "decoder_int8_data.h"
#include "decoder_mixture_table.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/system_setup.h"
#include "tensorflow/lite/schema/schema_generated.h"

#ifndef KERAS_VAE_ARENA_BYTES
#define KERAS_VAE_ARENA_BYTES kTensorArenaSize
#endif

// The instruction counter (a QEMU plugin) counts from the entry of the first to the entry of
// the second; noinline and the barrier keep the calls where they are.
extern "C" __attribute__((noinline, used)) void keras_vae_region_begin(void) {
  __asm__ volatile("" ::: "memory");
}
extern "C" __attribute__((noinline, used)) void keras_vae_region_end(void) {
  __asm__ volatile("" ::: "memory");
}

namespace {

constexpr int kArenaBytes = KERAS_VAE_ARENA_BYTES;
constexpr int kGuardBytes = 64;
constexpr uint8_t kGuardByte = 0xA5;
// The arena and a guard band after it: TFLM gets the arena only, and the guard is checked
// after every inference, so a write past the arena is reported instead of passing silently.
struct alignas(16) GuardedArena {
  uint8_t arena[kArenaBytes];
  uint8_t guard[kGuardBytes];
};
GuardedArena g_memory;

// TFLM's own messages go to stderr, so stdout holds exactly the lines described above.
void LogToStderr(const char* text) { fputs(text, stderr); }

int Fail(const char* message) {
  printf("error %s\n", message);
  return 1;
}

bool ParseLong(const char* text, long low, long high, long* value) {
  char* end = nullptr;
  const long parsed = strtol(text, &end, 10);
  if (end == text || *end != '\0' || parsed < low || parsed > high) return false;
  *value = parsed;
  return true;
}

bool ParseSeed(const char* text, uint32_t* value) {
  char* end = nullptr;
  if (text[0] == '-') return false;
  const unsigned long long parsed = strtoull(text, &end, 10);
  if (end == text || *end != '\0' || parsed > 0xFFFFFFFFull) return false;
  *value = static_cast<uint32_t>(parsed);
  return true;
}

uint32_t Fnv1a(const unsigned char* bytes, unsigned int length) {
  uint32_t hash = 2166136261u;
  for (unsigned int i = 0; i < length; ++i) {
    hash ^= bytes[i];
    hash *= 16777619u;
  }
  return hash;
}

// xorshift32 (Marsaglia); the seed is mixed so that 0 gives a non-zero state.
struct Random {
  uint32_t state;
  explicit Random(uint32_t seed) : state(seed ^ 0x9E3779B9u) {
    if (state == 0) state = 0x6D2B79F5u;
  }
  uint32_t Next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
  // (0, 1]: 24 bits, exact in float32.
  float UniformOpen() { return static_cast<float>((Next() >> 8) + 1u) * (1.0f / 16777216.0f); }
  // [0, 1).
  float Uniform() { return static_cast<float>(Next() >> 8) * (1.0f / 16777216.0f); }
};

float Log(float u) {
  uint32_t bits;
  memcpy(&bits, &u, sizeof(bits));
  int exponent = static_cast<int>((bits >> 23) & 0xFFu) - 127;
  const uint32_t mantissa_bits = (bits & 0x7FFFFFu) | 0x3F800000u;
  float m;
  memcpy(&m, &mantissa_bits, sizeof(m));
  if (m > 1.41421356f) {
    m = m * 0.5f;
    exponent += 1;
  }
  const float s = (m - 1.0f) / (m + 1.0f);
  const float s2 = s * s;
  const float series =
      s2 * (0.333333333f +
            s2 * (0.2f + s2 * (0.142857143f + s2 * (0.111111111f + s2 * 0.0909090909f))));
  const float log_m = 2.0f * s + 2.0f * s * series;
  return static_cast<float>(exponent) * 0.693147181f + log_m;
}

// cos(2 pi v) for v in [0, 1): -cos(x) with x = 2 pi (v - 1/2) in [-pi, pi], Taylor to x^16.
float CosTurn(float v) {
  const float x = (v - 0.5f) * 6.28318548f;
  const float x2 = x * x;
  float c = 4.77947733e-14f;
  c = -1.14707456e-11f + x2 * c;
  c = 2.08767570e-09f + x2 * c;
  c = -2.75573192e-07f + x2 * c;
  c = 2.48015873e-05f + x2 * c;
  c = -1.38888889e-03f + x2 * c;
  c = 4.16666667e-02f + x2 * c;
  c = -0.5f + x2 * c;
  c = 1.0f + x2 * c;
  return -c;
}

// Box-Muller, one normal per pair of uniforms.
float Normal(Random& random) {
  const float u = random.UniformOpen();
  const float v = random.Uniform();
  const float radius = __builtin_sqrtf(-2.0f * Log(u));
  return radius * CosTurn(v);
}

int PickComponent(Random& random) {
  const float u = random.Uniform();
  float cumulative = 0.0f;
  for (int k = 0; k < kMixtureComponents; ++k) {
    cumulative = cumulative + kMixtureWeights[k];
    if (u < cumulative) return k;
  }
  return kMixtureComponents - 1;
}

// z = mean_k + L_k noise, L_k lower-triangular, packed by rows.
void Draw(Random& random, int component, float* z) {
  float noise[kMixtureLatentDim];
  for (int i = 0; i < kMixtureLatentDim; ++i) noise[i] = Normal(random);
  const float* tril = kMixtureScaleTril[component];
  int offset = 0;
  for (int i = 0; i < kMixtureLatentDim; ++i) {
    float value = kMixtureMeans[component][i];
    for (int j = 0; j <= i; ++j) value = value + tril[offset + j] * noise[j];
    offset += i + 1;
    z[i] = value;
  }
}

// TFLM's reference QUANTIZE: round half away from zero, then clamp.
int8_t Quantize(float value) {
  const float scaled = value / kMixtureInputScale;
  const float rounded = __builtin_roundf(scaled);
  int q = static_cast<int>(rounded) + kMixtureInputZeroPoint;
  if (q < -128) q = -128;
  if (q > 127) q = 127;
  return static_cast<int8_t>(q);
}

bool GuardIntact() {
  for (int i = 0; i < kGuardBytes; ++i) {
    if (g_memory.guard[i] != kGuardByte) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  RegisterDebugLogCallback(LogToStderr);
  tflite::InitializeTarget();
  char message[200];

  if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "z") != 0)) {
    return Fail("usage: decoder POOL SEED N [z]");
  }
  long pool = 0, count = 0;
  uint32_t seed = 0;
  if (!ParseLong(argv[1], -1, kMixtureComponents - 1, &pool)) {
    snprintf(message, sizeof(message),
             "pool %s: expected -1 (the whole mixture) or a component 0..%d", argv[1],
             kMixtureComponents - 1);
    return Fail(message);
  }
  if (!ParseSeed(argv[2], &seed)) {
    snprintf(message, sizeof(message), "seed %s: expected an integer 0..4294967295", argv[2]);
    return Fail(message);
  }
  if (!ParseLong(argv[3], 1, 65535, &count)) {
    snprintf(message, sizeof(message), "n %s: expected an integer 1..65535", argv[3]);
    return Fail(message);
  }
  const bool print_z = argc == 5;

  const uint32_t hash = Fnv1a(g_decoder_int8_model, g_decoder_int8_model_len);
  if (hash != kMixtureModelHash || g_decoder_int8_model_len != kMixtureModelBytes) {
    snprintf(message, sizeof(message),
             "mixture table was written for model %08lx (%u bytes); the model array is %08lx"
             " (%u bytes): write both with keras-vae firmware from the same run",
             static_cast<unsigned long>(kMixtureModelHash), kMixtureModelBytes,
             static_cast<unsigned long>(hash), g_decoder_int8_model_len);
    return Fail(message);
  }
  const tflite::Model* model = tflite::GetModel(g_decoder_int8_model);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    snprintf(message, sizeof(message), "model schema version %lu; this TFLM reads %d",
             static_cast<unsigned long>(model->version()), TFLITE_SCHEMA_VERSION);
    return Fail(message);
  }
  tflite::MicroMutableOpResolver<KERAS_VAE_OP_COUNT> resolver;
  KERAS_VAE_ADD_OPS(resolver);

  memset(g_memory.guard, kGuardByte, kGuardBytes);
  tflite::MicroInterpreter interpreter(model, resolver, g_memory.arena, kArenaBytes);
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    snprintf(message, sizeof(message),
             "tensor arena of %d bytes is too small for this model (TFLM could not allocate"
             " its tensors); rebuild with a larger arena (keras-vae firmware --arena-bytes)",
             kArenaBytes);
    return Fail(message);
  }
  TfLiteTensor* input = interpreter.input(0);
  TfLiteTensor* output = interpreter.output(0);
  if (input->type != kTfLiteFloat32 || output->type != kTfLiteFloat32 ||
      input->dims->size != 2 || input->dims->data[1] != kMixtureLatentDim) {
    snprintf(message, sizeof(message),
             "the model expects a float32 input (1, %d) and gives a float32 image; the"
             " mixture table has latent size %d",
             input->dims->size == 2 ? input->dims->data[1] : -1, kMixtureLatentDim);
    return Fail(message);
  }
  const int pixels = static_cast<int>(output->bytes / sizeof(float));
  printf("firmware %08lx %u %d\n", static_cast<unsigned long>(hash),
         static_cast<unsigned>(interpreter.arena_used_bytes()), kArenaBytes);

  Random random(seed);
  float z[kMixtureLatentDim];
  for (long index = 0; index < count; ++index) {
    keras_vae_region_begin();
    const int component = pool < 0 ? PickComponent(random) : static_cast<int>(pool);
    Draw(random, component, z);
    for (int i = 0; i < kMixtureLatentDim; ++i) input->data.f[i] = z[i];
    const TfLiteStatus status = interpreter.Invoke();
    keras_vae_region_end();
    if (status != kTfLiteOk) return Fail("TFLM Invoke failed (its message is on stderr)");
    if (!GuardIntact()) return Fail("the guard band after the tensor arena was overwritten");
    if (print_z) {
      printf("z %ld %lu %ld %d ", pool, static_cast<unsigned long>(seed), index, component);
      for (int i = 0; i < kMixtureLatentDim; ++i) {
        uint32_t bits;
        memcpy(&bits, &z[i], sizeof(bits));
        printf("%08lx", static_cast<unsigned long>(bits));
      }
      putchar(' ');
      for (int i = 0; i < kMixtureLatentDim; ++i) {
        printf("%02x", static_cast<unsigned>(static_cast<uint8_t>(Quantize(z[i]))));
      }
      putchar('\n');
    }
    printf("image %ld %lu %ld ", pool, static_cast<unsigned long>(seed), index);
    for (int p = 0; p < pixels; ++p) {
      float value = output->data.f[p] * 255.0f + 0.5f;
      int level = value <= 0.0f ? 0 : static_cast<int>(value);
      if (level > 255) level = 255;
      printf("%02x", static_cast<unsigned>(level));
    }
    putchar('\n');
  }
  return 0;
}
