# torchtrt_link_shared_libstdcxx(TARGET): link TARGET against the shared libstdc++.so.6 explicitly, ahead of
# the compiler driver's own -lstdc++.
#
# A shared library loaded into a Python process must use the libstdc++ the process already has (torch's). Some
# toolchains resolve -lstdc++ partly or wholly from a static archive (a libstdc++.so linker script adding
# libstdc++_nonshared.a, or only libstdc++.a installed); the library then carries private copies of iostream and
# locale code that disagree with the shared libstdc++'s state. Seen on the GPU test machine: formatting an error
# message (an ostringstream of an integer) crashed. Naming the shared object first binds every symbol it provides
# to it. Skipped where the compiler does not know a libstdc++.so.6 (e.g. clang with libc++).
function(torchtrt_link_shared_libstdcxx target)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU" OR APPLE OR WIN32)
    return()
  endif()
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.so.6
                  OUTPUT_VARIABLE _so OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(IS_ABSOLUTE "${_so}" AND EXISTS "${_so}")
    target_link_libraries(${target} PRIVATE "${_so}")
  endif()
endfunction()
