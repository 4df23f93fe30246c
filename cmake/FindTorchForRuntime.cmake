# Finds the Torch of the Python that builds the package. Sets TORCHTRT_TORCH_FOUND (else TORCHTRT_TORCH_WHY)
# and TORCHTRT_TORCH_TARGETS (what the runtime links: torch, including torch_cuda and c10_cuda for a CUDA
# build of torch). TORCHTRT_PYTHON overrides the Python used.
#
# Torch's CMake package is located with `python -c 'import torch; print(torch.utils.cmake_prefix_path)'`
# (TORCHTRT_PYTHON, else Python3_EXECUTABLE / Python_EXECUTABLE / PYTHON_EXECUTABLE as scikit-build-core sets
# them, else the `python3` on PATH). For CUDA builds of torch, Caffe2's FindCUDA needs the
# toolkit root; /usr/local/cuda is used when CUDA_TOOLKIT_ROOT_DIR/CUDAToolkit_ROOT are not given.
if(TARGET torch)
  set(TORCHTRT_TORCH_FOUND TRUE)
  if(NOT TORCHTRT_TORCH_TARGETS)
    set(TORCHTRT_TORCH_TARGETS torch)
  endif()
  return()
endif()

set(TORCHTRT_TORCH_FOUND FALSE)
include(${CMAKE_CURRENT_LIST_DIR}/TorchTRTPython.cmake)

execute_process(
  COMMAND "${TORCHTRT_PYTHON}" -c "import torch; print(torch.utils.cmake_prefix_path)"
  OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _torch_rc ERROR_QUIET)
if(NOT _torch_rc EQUAL 0)
  set(TORCHTRT_TORCH_WHY "`${TORCHTRT_PYTHON} -c 'import torch'` failed (building in an isolated environment without "
                         "torch? use `pip install --no-build-isolation`)")
  return()
endif()
list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")

if(NOT CUDA_TOOLKIT_ROOT_DIR AND NOT CUDAToolkit_ROOT AND EXISTS /usr/local/cuda/include/cuda_runtime_api.h)
  set(CUDA_TOOLKIT_ROOT_DIR /usr/local/cuda CACHE PATH "CUDA toolkit root (for torch's CMake package)")
endif()

# The runtime compiles no CUDA kernels; a fixed arch list skips Caffe2's GPU probe (a try_run that fails on
# machines without a GPU or with a C++20 default dialect).
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()
find_package(Torch REQUIRED)
# Link the `torch` target (torch_cpu, torch_cuda, c10, c10_cuda, cudart) rather than TORCH_LIBRARIES, which
# can carry a NOTFOUND nvrtc entry on machines without the full CUDA toolkit; the runtime needs no nvrtc.
set(TORCHTRT_TORCH_TARGETS torch)
if(TARGET c10_cuda)
  list(APPEND TORCHTRT_TORCH_TARGETS c10_cuda)
else()
  find_library(_torchtrt_c10_cuda c10_cuda PATHS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH)
  if(_torchtrt_c10_cuda)
    list(APPEND TORCHTRT_TORCH_TARGETS "${_torchtrt_c10_cuda}")
  endif()
endif()
set(TORCHTRT_TORCH_FOUND TRUE)
