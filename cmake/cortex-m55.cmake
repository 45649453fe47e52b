# Cortex-M55 (ARMv8.1-M): DSP extension and MVE (Helium, __ARM_FEATURE_MVE), FPU.
# arm-none-eabi-gcc 12 + newlib; see arm-none-eabi-gcc.cmake and docs/porting.md.
set(TMO_MCU_FLAGS "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-gcc.cmake)
