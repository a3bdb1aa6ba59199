/* es_take_s8: rows of int8 codes picked by run-time int32 / int64 indices, copied exactly;
 * an index outside the axis fills the fault and writes nothing. */
#include <stdio.h>
#include <string.h>

#include "edgespec/kernels_int8.h"
#include "harness.h"
#include "test_indices_int8.h"

void test_indices_int8(void) {
  enum { OUTER = 2, AXIS = 256, INNER = 3, COUNT = 5 };
  static int8_t table[OUTER * AXIS * INNER], out[OUTER * COUNT * INNER];
  for (int i = 0; i < OUTER * AXIS * INNER; i++) table[i] = (int8_t)(i * 37 + 11);
  const int64_t idx64[COUNT] = {255, 0, -1, 128, 255};
  const int32_t idx32[COUNT] = {255, 0, 255, 128, 255};
  es_input_fault fault;
  memset(&fault, 0, sizeof fault);
  for (int width = 4; width <= 8; width += 4) {
    memset(out, 0x55, sizeof out);
    const int rc = es_take_s8(table, out, OUTER, AXIS, INNER, width == 8 ? (const void *)idx64 : (const void *)idx32, width, COUNT,
                              width == 8, &fault, "ids");
    int ok = rc == 0;
    for (int o = 0; o < OUTER; o++)
      for (int k = 0; k < COUNT; k++)
        for (int i = 0; i < INNER; i++) ok &= out[(o * COUNT + k) * INNER + i] == table[(o * AXIS + idx32[k]) * INNER + i];
    t_expect(width == 8 ? "take_s8 int64 indices (one negative) copy the codes" : "take_s8 int32 indices copy the codes", ok, "");
  }
  const int32_t bad[COUNT] = {0, 1, 256, 2, 3};
  memset(out, 0x55, sizeof out);
  const int rc = es_take_s8(table, out, OUTER, AXIS, INNER, bad, 4, COUNT, 0, &fault, "ids");
  int untouched = 1;
  for (size_t i = 0; i < sizeof out; i++) untouched &= out[i] == 0x55;
  char detail[120];
  snprintf(detail, sizeof detail, "rc=%d index=%lld position=%d bound=%lld", rc, (long long)fault.index, (int)fault.position, (long long)fault.bound);
  t_expect("take_s8 index 256 of 256: refused, nothing written", rc == 1 && fault.index == 256 && fault.position == 2 && fault.bound == 256 && untouched, detail);
}
