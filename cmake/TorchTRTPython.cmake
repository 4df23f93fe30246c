# Sets TORCHTRT_PYTHON: the Python that builds the package (TORCHTRT_PYTHON if given, else Python3_EXECUTABLE /
# Python_EXECUTABLE / PYTHON_EXECUTABLE as scikit-build-core sets them, else the `python3` on PATH). Torch's
# CMake package and the TensorRT wheels' libraries are looked up through it.
if(NOT TORCHTRT_PYTHON)
  if(Python3_EXECUTABLE)
    set(TORCHTRT_PYTHON "${Python3_EXECUTABLE}")
  elseif(Python_EXECUTABLE)
    set(TORCHTRT_PYTHON "${Python_EXECUTABLE}")
  elseif(PYTHON_EXECUTABLE)
    set(TORCHTRT_PYTHON "${PYTHON_EXECUTABLE}")
  else()
    find_program(TORCHTRT_PYTHON NAMES python3 python)
  endif()
endif()
