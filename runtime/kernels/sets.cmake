# Kernel sets of the device library, chosen by file (STYLE.md #4, like TFLite
# Micro's OPTIMIZED_KERNEL_DIR):
#   ref  reference kernels (ref/) only: the bit-exact oracle (TMO_KERNELS_REF);
#   opt  portable optimized kernels (opt/), shaped for hosts with vector units;
#   dsp  Cortex-M DSP-extension kernels (dsp/): each dsp/X.c replaces opt/X.c
#        and defines the same functions (the "_opt" slot of KERNEL_PICK).
# tmo_kernel_sources(SET OUT) sets OUT to the kernel sources of SET; the
# operator-generic files (kernels/*.c) are not included.
function(tmo_kernel_sources set out)
  set(dir ${CMAKE_CURRENT_FUNCTION_LIST_DIR})
  file(GLOB ref CONFIGURE_DEPENDS ${dir}/ref/*.c)
  file(GLOB opt CONFIGURE_DEPENDS ${dir}/opt/*.c)
  if(set STREQUAL "dsp")
    file(GLOB dsp CONFIGURE_DEPENDS ${dir}/dsp/*.c)
    foreach(f IN LISTS dsp)
      get_filename_component(name ${f} NAME)
      list(REMOVE_ITEM opt ${dir}/opt/${name})
    endforeach()
    list(APPEND opt ${dsp})
  elseif(NOT set STREQUAL "opt" AND NOT set STREQUAL "ref")
    message(FATAL_ERROR "unknown kernel set '${set}' (ref, opt or dsp)")
  endif()
  set(${out} ${ref} ${opt} PARENT_SCOPE)
endfunction()

# TMO_TARGET_HAS_DSP: whether the C compiler targets a core with the DSP extension.
function(tmo_detect_dsp out)
  include(CheckCSourceCompiles)
  set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
  check_c_source_compiles("#ifndef __ARM_FEATURE_DSP\n#error no DSP extension\n#endif\nint tmo_dsp_probe;"
                          TMO_TARGET_HAS_DSP)
  set(${out} ${TMO_TARGET_HAS_DSP} PARENT_SCOPE)
endfunction()
