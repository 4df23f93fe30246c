# Locates a TensorRT SDK: headers (NvInferRuntime.h) and a runtime library (libnvinfer or libtensorrt_rtx).
# Sets TORCHTRT_TENSORRT_FOUND, TORCHTRT_TENSORRT_INCLUDE_DIR, TORCHTRT_TENSORRT_LIBRARY, TORCHTRT_TENSORRT_WHY.
set(_trt_hints "")
if(TENSORRT_ROOT)
  list(APPEND _trt_hints "${TENSORRT_ROOT}")
endif()
if(DEFINED ENV{TENSORRT_ROOT})
  list(APPEND _trt_hints "$ENV{TENSORRT_ROOT}")
endif()
list(APPEND _trt_hints /usr /usr/local /usr/local/tensorrt /opt/tensorrt /usr/local/TensorRT)

find_path(TORCHTRT_TENSORRT_INCLUDE_DIR NvInferRuntime.h
          HINTS ${_trt_hints} PATH_SUFFIXES include include/x86_64-linux-gnu include/aarch64-linux-gnu
          NO_CACHE)
find_library(TORCHTRT_TENSORRT_LIBRARY NAMES nvinfer tensorrt_rtx
             HINTS ${_trt_hints} PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu lib/aarch64-linux-gnu
             NO_CACHE)

set(TORCHTRT_TENSORRT_FOUND FALSE)
if(NOT TORCHTRT_TENSORRT_INCLUDE_DIR)
  set(TORCHTRT_TENSORRT_WHY "NvInferRuntime.h not found under TENSORRT_ROOT or the usual paths")
elseif(NOT TORCHTRT_TENSORRT_LIBRARY)
  set(TORCHTRT_TENSORRT_WHY "headers found in ${TORCHTRT_TENSORRT_INCLUDE_DIR} but no libnvinfer/libtensorrt_rtx")
else()
  set(TORCHTRT_TENSORRT_FOUND TRUE)
  message(STATUS "torch_tensorrt: TensorRT SDK: ${TORCHTRT_TENSORRT_INCLUDE_DIR}, ${TORCHTRT_TENSORRT_LIBRARY}")
endif()
