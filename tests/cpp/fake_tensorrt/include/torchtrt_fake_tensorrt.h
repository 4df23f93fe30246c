// Test-only C API of the stand-in TensorRT (libfake_nvinfer). Never installed or shipped.
//
// Plain C so that Python tests can reach it with ctypes (ctypes.CDLL on libfake_nvinfer.so) and C++ tests by
// including this header.
#pragma once

#include <stdint.h>
#include <stddef.h>

#if defined(__GNUC__)
#define TORCHTRT_FAKE_API __attribute__((visibility("default")))
#else
#define TORCHTRT_FAKE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Called by IExecutionContext::enqueueV3 when registered, before the plan's built-in computation.
 * One entry per I/O tensor, in engine order: names, is_input (1/0), dtypes (nvinfer1::DataType values),
 * nb_dims and dims (MAX_DIMS = 8 int64 per tensor), host addresses (in CUDA mode: host copies, made after
 * synchronizing the stream; what the hook writes to the outputs is copied to the device). Outputs are already
 * allocated.
 * Return 0: the hook wrote the outputs (the built-in computation is skipped); 1: declined (the built-in
 * computation runs); anything else: failure (enqueueV3 logs an error and returns false).
 * The hook is not called for plans with data-dependent output shapes, nor when an IOutputAllocator is set
 * on an output. */
typedef int32_t (*torchtrt_fake_enqueue_hook)(void* user_data, const char* plan_name, int32_t nb_tensors,
                                              const char* const* names, const int32_t* is_input,
                                              const int32_t* dtypes, const int32_t* nb_dims, const int64_t* dims,
                                              void* const* addresses);

/* Registers (or, with NULL, clears) the process-wide hook. */
TORCHTRT_FAKE_API void torchtrt_fake_set_enqueue_hook(torchtrt_fake_enqueue_hook hook, void* user_data);

/* Simulated plans (what the runtime's test build deserializes for records built under
 * torch_tensorrt.testing.simulate(): the JSON plan of torch_tensorrt.testing._sim_runtime) are computed by a
 * registered simulator; the stand-in itself only knows their I/O tensors, dtypes and profiles.
 *   request TORCHTRT_FAKE_SIMULATOR_SHAPES: once all input shapes are set (IExecutionContext::getTensorShape on
 *     an output); inputs' nb_dims/dims are given, write each output's nb_dims and dims (-1: data-dependent).
 *     addresses is NULL.
 *   request TORCHTRT_FAKE_SIMULATOR_EXECUTE: from enqueueV3; every shape and host address is given and the
 *     outputs are allocated with the shapes the SHAPES request returned; write the outputs.
 *   request TORCHTRT_FAKE_SIMULATOR_ALIASES: from IRuntime::deserializeCudaEngine (ICudaEngine::
 *     getAliasedInputTensor); for each output write nb_dims as the engine index of the input it is written into
 *     in place, or leave it -1 (it aliases nothing). No shapes are given; dims and addresses are unused.
 * engine_id is unique per deserialized engine in the process; plan/plan_size are the simulated plan's bytes.
 * One entry per I/O tensor in engine order (inputs first), dims hold MAX_DIMS = 8 int64 per tensor.
 * Return 0 on success; anything else fails the call, with a message written (NUL-terminated) to error. */
#define TORCHTRT_FAKE_SIMULATOR_SHAPES 0
#define TORCHTRT_FAKE_SIMULATOR_EXECUTE 1
#define TORCHTRT_FAKE_SIMULATOR_ALIASES 2
typedef int32_t (*torchtrt_fake_simulator)(void* user_data, int32_t request, int64_t engine_id, const char* plan,
                                           int64_t plan_size, int32_t nb_tensors, const char* const* names,
                                           const int32_t* is_input, const int32_t* dtypes, int32_t* nb_dims,
                                           int64_t* dims, void* const* addresses, char* error, int32_t error_size);

/* Registers (or, with NULL, clears) the process-wide simulator. */
TORCHTRT_FAKE_API void torchtrt_fake_set_simulator(torchtrt_fake_simulator simulator, void* user_data);

/* 1 when the stand-in executes with CUDA (the process has a CUDA device), 0 on host memory. */
TORCHTRT_FAKE_API int32_t torchtrt_fake_cuda_mode(void);

/* The stream the last enqueueV3 call was given (0: the default stream, or host memory). */
TORCHTRT_FAKE_API intptr_t torchtrt_fake_last_enqueue_stream(void);

/* Execution contexts created through an IRuntimeConfig (the TensorRT-RTX path), and runtime caches loaded with
 * IRuntimeCache::deserialize, since load. */
TORCHTRT_FAKE_API int64_t torchtrt_fake_runtime_config_contexts(void);
TORCHTRT_FAKE_API int64_t torchtrt_fake_runtime_cache_loads(void);

/* Number of successful enqueueV3 calls since load (or since the last reset). */
TORCHTRT_FAKE_API int64_t torchtrt_fake_enqueue_count(void);

/* Runtimes, engines and execution contexts currently alive (leak checks). */
TORCHTRT_FAKE_API int64_t torchtrt_fake_live_objects(void);

TORCHTRT_FAKE_API void torchtrt_fake_reset_counters(void);

#ifdef __cplusplus
}
#endif
