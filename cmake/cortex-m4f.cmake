# Cortex-M4F (ARMv7E-M): DSP extension (__ARM_FEATURE_DSP), single-precision FPU.
# arm-none-eabi-gcc 12 + newlib; see arm-none-eabi-gcc.cmake and docs/porting.md.
set(TMO_MCU_FLAGS "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-gcc.cmake)
