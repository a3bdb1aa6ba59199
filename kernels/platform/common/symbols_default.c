/* Empty symbol table, replaced by the one the build generates (edgespec/platform.h). */
#include "edgespec/platform.h"

__attribute__((weak, section(".edgespec.symbols"))) const es_symbol es_symbols[1] = {{0, 0, 0}};
__attribute__((weak, section(".edgespec.symbols"))) const uint32_t es_symbol_count = 0;
__attribute__((weak, section(".edgespec.symbols"))) const char es_symbol_names[1] = "";
