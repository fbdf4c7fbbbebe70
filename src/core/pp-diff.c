#define G_LOG_DOMAIN "pp-diff"

#include "config.h"

#include <string.h>

#include "pp-diff.h"

#define CONTEXT 3
/* Above this many lines in each text's middle (after their common start
 * and end are set aside) the middle is shown as removed and added whole,
 * rather than spend (n*m) on the longest common subsequence. */
#define MAX_MIDDLE 2000

typedef enum { OP_SAME, OP_DEL, OP_ADD } Op;

typedef struct {
  Op op;
  guint old_line; /* 0-based index into the old lines (SAME, DEL) */
  guint new_line; /* into the new lines (SAME, ADD) */
} Edit;

/* Lines with their newlines; a last line without one is kept as it is. */
static GPtrArray *
split_lines(const char *text)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
  const char *p = text;

  while (p != NULL && *p != '\0') {
    const char *nl = strchr(p, '\n');
    gsize n = nl ? (gsize)(nl - p + 1) : strlen(p);

    g_ptr_array_add(lines, g_strndup(p, n));
    p += n;
  }
  return lines;
}

static gboolean
line_equal(GPtrArray *a, guint i, GPtrArray *b, guint j)
{
  return strcmp(g_ptr_array_index(a, i), g_ptr_array_index(b, j)) == 0;
}

static void
add_edit(GArray *edits, Op op, guint old_line, guint new_line)
{
  Edit e = { op, old_line, new_line };

  g_array_append_val(edits, e);
}

/* The edit script turning lines a into lines b. */
static GArray *
edit_script(GPtrArray *a, GPtrArray *b)
{
  GArray *edits = g_array_new(FALSE, FALSE, sizeof(Edit));
  guint n = a->len, m = b->len;
  guint pre = 0, post = 0;
  guint an, bm;

  while (pre < n && pre < m && line_equal(a, pre, b, pre))
    pre++;
  while (post < n - pre && post < m - pre && line_equal(a, n - 1 - post, b, m - 1 - post))
    post++;
  an = n - pre - post;
  bm = m - pre - post;

  for (guint i = 0; i < pre; i++)
    add_edit(edits, OP_SAME, i, i);
  if (an > MAX_MIDDLE || bm > MAX_MIDDLE) {
    for (guint i = 0; i < an; i++)
      add_edit(edits, OP_DEL, pre + i, 0);
    for (guint j = 0; j < bm; j++)
      add_edit(edits, OP_ADD, 0, pre + j);
  } else {
    /* lcs[i][j]: the longest common subsequence of a[i..] and b[j..]. */
    g_autofree guint *lcs = g_new0(guint, (gsize)(an + 1) * (bm + 1));
    guint i = 0, j = 0;

#define LCS(x, y) lcs[(gsize)(x) * (bm + 1) + (y)]
    for (guint x = an; x-- > 0;)
      for (guint y = bm; y-- > 0;)
        LCS(x, y) = line_equal(a, pre + x, b, pre + y) ? LCS(x + 1, y + 1) + 1
                                                       : MAX(LCS(x + 1, y), LCS(x, y + 1));
    while (i < an || j < bm) {
      if (i < an && j < bm && line_equal(a, pre + i, b, pre + j)) {
        add_edit(edits, OP_SAME, pre + i, pre + j);
        i++;
        j++;
      } else if (i < an && (j == bm || LCS(i + 1, j) >= LCS(i, j + 1))) {
        /* Removals before additions, as diff -u shows them. */
        add_edit(edits, OP_DEL, pre + i, 0);
        i++;
      } else {
        add_edit(edits, OP_ADD, 0, pre + j);
        j++;
      }
    }
#undef LCS
  }
  for (guint k = 0; k < post; k++)
    add_edit(edits, OP_SAME, n - post + k, m - post + k);
  return edits;
}

static void
append_line(GString *out, char mark, const char *line)
{
  g_string_append_c(out, mark);
  g_string_append(out, line);
  if (!g_str_has_suffix(line, "\n"))
    g_string_append(out, "\n\\ No newline at end of file\n");
}

/* GNU diff's form of a hunk's range: "start,count", "start" alone for one
 * line, and the line before for none. */
static void
append_range(GString *out, const char *prefix, guint start, guint count)
{
  if (count == 1)
    g_string_append_printf(out, "%s%u", prefix, start + 1);
  else
    g_string_append_printf(out, "%s%u,%u", prefix, count ? start + 1 : start, count);
}

char *
pp_diff_unified(const char *old_text, const char *new_text, const char *path)
{
  g_autoptr(GPtrArray) a = split_lines(old_text);
  g_autoptr(GPtrArray) b = split_lines(new_text);
  g_autoptr(GArray) edits = NULL;
  g_autoptr(GString) out = g_string_new(NULL);
  guint k = 0;

  g_return_val_if_fail(new_text != NULL && path != NULL, NULL);

  if (old_text != NULL && strcmp(old_text, new_text) == 0)
    return g_strdup("");
  edits = edit_script(a, b);
  g_string_append_printf(out, "--- %s\n+++ %s\n", old_text ? path : "/dev/null", path);

  while (k < edits->len) {
    guint start, end, old_start = 0, new_start = 0, old_count = 0, new_count = 0;
    gboolean first = TRUE;
    g_autoptr(GString) body = g_string_new(NULL);

    /* The next change, with CONTEXT lines before; then extend while the
     * gap to the following change is at most 2 * CONTEXT. */
    while (k < edits->len && g_array_index(edits, Edit, k).op == OP_SAME)
      k++;
    if (k == edits->len)
      break;
    start = k >= CONTEXT ? k - CONTEXT : 0;
    end = k;
    for (;;) {
      guint same = 0;

      while (end < edits->len && g_array_index(edits, Edit, end).op != OP_SAME)
        end++;
      while (end + same < edits->len && g_array_index(edits, Edit, end + same).op == OP_SAME)
        same++;
      if (end + same < edits->len && same <= 2 * CONTEXT) {
        end += same;
        continue;
      }
      end += MIN(same, CONTEXT);
      break;
    }

    for (guint e = start; e < end; e++) {
      const Edit *ed = &g_array_index(edits, Edit, e);

      if (first) {
        /* Where the hunk starts in each file (1-based; the line before it
         * when it has none there). */
        guint o = 0, n = 0;

        for (guint f = 0; f < e; f++) {
          Op op = g_array_index(edits, Edit, f).op;

          o += op != OP_ADD;
          n += op != OP_DEL;
        }
        old_start = o;
        new_start = n;
        first = FALSE;
      }
      switch (ed->op) {
      case OP_SAME:
        append_line(body, ' ', g_ptr_array_index(a, ed->old_line));
        old_count++;
        new_count++;
        break;
      case OP_DEL:
        append_line(body, '-', g_ptr_array_index(a, ed->old_line));
        old_count++;
        break;
      case OP_ADD:
        append_line(body, '+', g_ptr_array_index(b, ed->new_line));
        new_count++;
        break;
      }
    }
    append_range(out, "@@ -", old_start, old_count);
    append_range(out, " +", new_start, new_count);
    g_string_append(out, " @@\n");
    g_string_append(out, body->str);
    k = end;
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}
