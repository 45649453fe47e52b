# Common part of the Cortex-M toolchain files (cortex-m*.cmake beside this
# file): arm-none-eabi-gcc 12 + newlib, bare metal (CMAKE_SYSTEM_NAME Generic).
# A per-core file sets TMO_MCU_FLAGS (-mcpu, -mfpu, -mfloat-abi) and includes
# this one. Usage (docs/porting.md):
#   cmake -S . -B build-m4 -DCMAKE_TOOLCHAIN_FILE=cmake/cortex-m4f.cmake [-DTMO_BOARD=mps2-an386]
# The compiler may be elsewhere: -DTMO_ARM_GCC_PREFIX=/opt/arm/bin/arm-none-eabi-
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(TMO_ARM_GCC_PREFIX "arm-none-eabi-" CACHE STRING "Prefix of the cross tools (path and triplet)")
set(CMAKE_C_COMPILER "${TMO_ARM_GCC_PREFIX}gcc")
set(CMAKE_ASM_COMPILER "${TMO_ARM_GCC_PREFIX}gcc")
set(CMAKE_AR "${TMO_ARM_GCC_PREFIX}ar" CACHE FILEPATH "")
set(CMAKE_RANLIB "${TMO_ARM_GCC_PREFIX}ranlib" CACHE FILEPATH "")
set(CMAKE_OBJCOPY "${TMO_ARM_GCC_PREFIX}objcopy" CACHE FILEPATH "")
set(CMAKE_SIZE "${TMO_ARM_GCC_PREFIX}size" CACHE FILEPATH "")
# No host executable can run: the compiler checks only compile and archive.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Every function and object in its own section, so --gc-sections drops what
# the firmware does not reach (unnamed kernels, unused diagnostics).
set(CMAKE_C_FLAGS_INIT "${TMO_MCU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${TMO_MCU_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${TMO_MCU_FLAGS} -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
