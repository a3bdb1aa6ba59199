/* es_argmax_s8: TFLite's int8 ARG_MAX on the codes (arg_reduce_s8.h). */
#include "arg_reduce_s8.h"

#define ES_GREATER(c, v) ((c) > (v))
ES_ARG_REDUCE_S8_KERNEL(es_argmax_s8, ES_GREATER)
