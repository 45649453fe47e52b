# Cortex-M3 (ARMv7-M): no DSP extension, no FPU (the portable kernels' path).
# arm-none-eabi-gcc 12 + newlib; see arm-none-eabi-gcc.cmake and docs/porting.md.
set(TMO_MCU_FLAGS "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-gcc.cmake)
