# Locates a TensorRT SDK: headers (NvInferRuntime.h, NvInferVersion.h) and the runtime library of the SAME
# flavour and version. Sets
#   TORCHTRT_TENSORRT_FOUND, TORCHTRT_TENSORRT_WHY (why not found)
#   TORCHTRT_TENSORRT_INCLUDE_DIR, TORCHTRT_TENSORRT_LIBRARY
#   TORCHTRT_TENSORRT_FLAVOUR ("tensorrt" | "tensorrt_rtx"), TORCHTRT_TENSORRT_VERSION (the headers', "11.1.0")
#   TORCHTRT_TENSORRT_MISMATCH: set (with the reason) when headers and library disagree -- a broken SDK, which
#   the caller reports as an error rather than building Python-only.
#
# Headers: TENSORRT_ROOT (cache or environment), then the usual paths. Their flavour is TensorRT-RTX when
# NvInferVersion.h defines TRT_MAJOR_RTX, else TensorRT. The library is searched under the headers' own root
# first, then TENSORRT_ROOT and the usual paths, then the pip wheels' folders (site-packages/tensorrt_libs,
# tensorrt_rtx_libs) of the building Python; it may be given explicitly with TENSORRT_LIBRARY. Names: the
# flavour's development symlink (libnvinfer.so / libtensorrt_rtx.so) or the versioned names the wheels ship
# (libnvinfer.so.<major>, libtensorrt_rtx.so.<major>). The library's own version comes from its
# getInferLibVersion() (a configure-time probe, cmake/tensorrt_version_probe.cpp); where the probe cannot load
# it, from the major version in its file name.
set(_trt_hints "")
if(TENSORRT_ROOT)
  list(APPEND _trt_hints "${TENSORRT_ROOT}")
endif()
if(DEFINED ENV{TENSORRT_ROOT})
  list(APPEND _trt_hints "$ENV{TENSORRT_ROOT}")
endif()
list(APPEND _trt_hints /usr /usr/local /usr/local/tensorrt /opt/tensorrt /usr/local/TensorRT)

set(TORCHTRT_TENSORRT_FOUND FALSE)
unset(TORCHTRT_TENSORRT_MISMATCH)
unset(TORCHTRT_TENSORRT_LIBRARY)
find_path(TORCHTRT_TENSORRT_INCLUDE_DIR NvInferRuntime.h
          HINTS ${_trt_hints} PATH_SUFFIXES include include/x86_64-linux-gnu include/aarch64-linux-gnu
          NO_CACHE)
if(NOT TORCHTRT_TENSORRT_INCLUDE_DIR)
  set(TORCHTRT_TENSORRT_WHY "NvInferRuntime.h not found under TENSORRT_ROOT or the usual paths")
  return()
endif()
string(REGEX REPLACE "/+$" "" TORCHTRT_TENSORRT_INCLUDE_DIR "${TORCHTRT_TENSORRT_INCLUDE_DIR}")

# --- the headers' flavour and version
set(_trt_version_h "${TORCHTRT_TENSORRT_INCLUDE_DIR}/NvInferVersion.h")
if(NOT EXISTS "${_trt_version_h}")
  set(TORCHTRT_TENSORRT_WHY "headers found in ${TORCHTRT_TENSORRT_INCLUDE_DIR} but no NvInferVersion.h beside them")
  return()
endif()
file(READ "${_trt_version_h}" _trt_version_text)
function(_torchtrt_define name out)
  if(_trt_version_text MATCHES "#define[ \t]+${name}[ \t]+([0-9]+)")
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()
_torchtrt_define(TRT_MAJOR_RTX _trt_major)
if(NOT _trt_major STREQUAL "")
  set(TORCHTRT_TENSORRT_FLAVOUR tensorrt_rtx)
  _torchtrt_define(TRT_MINOR_RTX _trt_minor)
  _torchtrt_define(TRT_PATCH_RTX _trt_patch)
  set(_trt_names tensorrt_rtx libtensorrt_rtx.so.${_trt_major})
else()
  set(TORCHTRT_TENSORRT_FLAVOUR tensorrt)
  _torchtrt_define(TRT_MAJOR_ENTERPRISE _trt_major)  # TensorRT >= 10.8 spells them so
  if(_trt_major STREQUAL "")
    _torchtrt_define(NV_TENSORRT_MAJOR _trt_major)
    _torchtrt_define(NV_TENSORRT_MINOR _trt_minor)
    _torchtrt_define(NV_TENSORRT_PATCH _trt_patch)
  else()
    _torchtrt_define(TRT_MINOR_ENTERPRISE _trt_minor)
    _torchtrt_define(TRT_PATCH_ENTERPRISE _trt_patch)
  endif()
  set(_trt_names nvinfer libnvinfer.so.${_trt_major})
endif()
if(_trt_major STREQUAL "" OR _trt_minor STREQUAL "" OR _trt_patch STREQUAL "")
  set(TORCHTRT_TENSORRT_WHY "could not read the TensorRT version from ${_trt_version_h}")
  return()
endif()
set(TORCHTRT_TENSORRT_VERSION "${_trt_major}.${_trt_minor}.${_trt_patch}")
if(TORCHTRT_TENSORRT_FLAVOUR STREQUAL "tensorrt_rtx")
  set(_trt_label "TensorRT-RTX ${TORCHTRT_TENSORRT_VERSION}")
else()
  set(_trt_label "TensorRT ${TORCHTRT_TENSORRT_VERSION}")
endif()

# --- the library: explicit, else beside the headers, the hints, the pip wheels
if(TENSORRT_LIBRARY)
  set(TORCHTRT_TENSORRT_LIBRARY "${TENSORRT_LIBRARY}")
else()
  get_filename_component(_trt_own_root "${TORCHTRT_TENSORRT_INCLUDE_DIR}" DIRECTORY)
  set(_trt_wheel_dirs "")
  include(${CMAKE_CURRENT_LIST_DIR}/TorchTRTPython.cmake)
  if(TORCHTRT_PYTHON)
    execute_process(COMMAND "${TORCHTRT_PYTHON}" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])"
                    OUTPUT_VARIABLE _trt_site OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _trt_rc ERROR_QUIET)
    if(_trt_rc EQUAL 0)
      set(_trt_wheel_dirs "${_trt_site}/tensorrt_libs" "${_trt_site}/tensorrt_rtx_libs")
    endif()
  endif()
  find_library(TORCHTRT_TENSORRT_LIBRARY NAMES ${_trt_names}
               HINTS "${_trt_own_root}" ${_trt_hints} ${_trt_wheel_dirs}
               PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu lib/aarch64-linux-gnu targets/x86_64-linux/lib ""
               NO_CACHE)
endif()
if(NOT TORCHTRT_TENSORRT_LIBRARY)
  list(GET _trt_names 0 _trt_first)
  string(CONCAT TORCHTRT_TENSORRT_WHY "${_trt_label} headers found in ${TORCHTRT_TENSORRT_INCLUDE_DIR} but no "
         "lib${_trt_first} (${_trt_names}) beside them, under TENSORRT_ROOT or in the TensorRT wheels")
  return()
endif()

# --- the library's flavour and version must be the headers'
get_filename_component(_trt_lib_name "${TORCHTRT_TENSORRT_LIBRARY}" NAME)
if(_trt_lib_name MATCHES "tensorrt_rtx")
  set(_trt_lib_flavour tensorrt_rtx)
elseif(_trt_lib_name MATCHES "nvinfer")
  set(_trt_lib_flavour tensorrt)
else()
  set(_trt_lib_flavour unknown)
endif()
set(_trt_lib_version "")
if(NOT CMAKE_CROSSCOMPILING)
  try_run(_trt_run_rc _trt_compile_ok ${CMAKE_BINARY_DIR}/torchtrt_tensorrt_probe
          ${CMAKE_CURRENT_LIST_DIR}/tensorrt_version_probe.cpp
          LINK_LIBRARIES ${CMAKE_DL_LIBS}
          RUN_OUTPUT_VARIABLE _trt_probe_out
          ARGS "${TORCHTRT_TENSORRT_LIBRARY}")
  if(_trt_compile_ok AND _trt_run_rc EQUAL 0 AND _trt_probe_out MATCHES "^([0-9]+\\.[0-9]+\\.[0-9]+)")
    set(_trt_lib_version "${CMAKE_MATCH_1}")
  endif()
endif()
set(_trt_compared "major.minor.patch")
if(_trt_lib_version STREQUAL "")
  # The probe could not load it (missing CUDA libraries, cross-compiling): the major version of its file name.
  get_filename_component(_trt_real "${TORCHTRT_TENSORRT_LIBRARY}" REALPATH)
  get_filename_component(_trt_real_name "${_trt_real}" NAME)
  if(_trt_real_name MATCHES "\\.so\\.([0-9]+)" OR _trt_lib_name MATCHES "\\.so\\.([0-9]+)")
    set(_trt_lib_version "${CMAKE_MATCH_1}")
    set(_trt_compared "major")
    message(STATUS "torch_tensorrt: could not run getInferLibVersion() of ${TORCHTRT_TENSORRT_LIBRARY}; "
                   "comparing the major version of its file name only")
  endif()
endif()
if(_trt_compared STREQUAL "major")
  set(_trt_header_compared "${_trt_major}")
else()
  set(_trt_header_compared "${TORCHTRT_TENSORRT_VERSION}")
endif()
if(_trt_lib_flavour STREQUAL "tensorrt_rtx")
  set(_trt_lib_label "TensorRT-RTX ${_trt_lib_version}")
elseif(_trt_lib_flavour STREQUAL "tensorrt")
  set(_trt_lib_label "TensorRT ${_trt_lib_version}")
else()
  set(_trt_lib_label "an unknown library")
endif()
if(NOT _trt_lib_flavour STREQUAL TORCHTRT_TENSORRT_FLAVOUR OR NOT _trt_lib_version STREQUAL _trt_header_compared)
  string(CONCAT TORCHTRT_TENSORRT_MISMATCH
         "the headers in ${TORCHTRT_TENSORRT_INCLUDE_DIR} are ${_trt_label} but the library "
         "${TORCHTRT_TENSORRT_LIBRARY} is ${_trt_lib_label}; point TENSORRT_ROOT (or TENSORRT_LIBRARY) at one SDK "
         "of one flavour and version")
  set(TORCHTRT_TENSORRT_WHY "${TORCHTRT_TENSORRT_MISMATCH}")
  return()
endif()
set(TORCHTRT_TENSORRT_FOUND TRUE)
message(STATUS "torch_tensorrt: ${_trt_label}: ${TORCHTRT_TENSORRT_INCLUDE_DIR}, ${TORCHTRT_TENSORRT_LIBRARY}")
