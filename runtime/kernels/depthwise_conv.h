/*
 * DEPTHWISE_CONV_2D shares its parameters, prepare steps and invoke
 * declarations with CONV_2D (conv.h); this header exists so that the
 * depthwise files name what they implement.
 */
#ifndef TMO_DEPTHWISE_CONV_H
#define TMO_DEPTHWISE_CONV_H

#include "conv.h"

#endif
