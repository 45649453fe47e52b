# Cortex-M0+ (ARMv6-M): no DSP, no FPU, no unaligned access, no hardware divide.
# arm-none-eabi-gcc 12 + newlib; see arm-none-eabi-gcc.cmake and docs/porting.md.
set(TMO_MCU_FLAGS "-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-gcc.cmake)
