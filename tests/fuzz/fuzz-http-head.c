/* libFuzzer target: pp_http_head_check(), the check of a request's head
 * that every plain-HTTP client reaches before authentication. Every input
 * gets a known answer; a good head is never refused on a part of it, an
 * error found on a part holds for the whole, and a good head's length is
 * where its empty line ends. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pp-http-priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gboolean
known_status(guint status)
{
  static const guint known[] = { 0, 200, 400, 411, 414, 431, 505 };

  for (guint i = 0; i < G_N_ELEMENTS(known); i++) {
    if (known[i] == status)
      return TRUE;
  }
  return FALSE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  PpHttpHeadCheck whole, part;

  pp_http_head_check(text, size, &whole);
  if (!known_status(whole.status))
    abort();
  if (whole.status != 0 && whole.status != 200 && whole.message == NULL)
    abort();
  if (whole.status == 200) {
    const char *end = text + whole.head_len;

    if (whole.head_len < 4 || whole.head_len > size || whole.head_len > PP_HTTP_HEAD_MAX)
      abort();
    if (end[-1] != '\n' || (end[-2] != '\n' && !(end[-2] == '\r' && end[-3] == '\n')))
      abort();
    /* Each part before the end is not whole yet, never an error. */
    pp_http_head_check(text, whole.head_len - 1, &part);
    if (part.status != 0)
      abort();
    pp_http_head_check(text, whole.head_len / 2, &part);
    if (part.status != 0)
      abort();
  }
  /* An error on the first half is an error on the whole. */
  pp_http_head_check(text, size / 2, &part);
  if (part.status != 0 && part.status != 200 && (whole.status == 0 || whole.status == 200))
    abort();
  return 0;
}
