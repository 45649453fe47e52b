# Cortex-M7 (ARMv7E-M): DSP extension, double-precision FPU (FPv5).
# arm-none-eabi-gcc 12 + newlib; see arm-none-eabi-gcc.cmake and docs/porting.md.
set(TMO_MCU_FLAGS "-mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-gcc.cmake)
