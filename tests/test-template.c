/* The template language: OpenNebula's syntax, errors with positions, and
 * the print-and-parse-again round trip. */
#include "config.h"

#include <string.h>

#include "pp-template.h"

static PpTemplate *
parse_ok(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpTemplate *tmpl = pp_template_parse(text, strlen(text), NULL, &error);

  g_assert_no_error(error);
  g_assert_nonnull(tmpl);
  return tmpl;
}

/* Parses @text, expects an error at @line:@column whose message holds
 * @fragment. */
static void
parse_fails(const char *text, guint line, guint column, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = g_strdup_printf("line %u, column %u: ", line, column);
  PpTextPos pos = { 0, 0 };
  PpTemplate *tmpl = pp_template_parse(text, strlen(text), &pos, &error);

  if (tmpl != NULL)
    g_error("'%s' parsed, but should fail with '%s'", text, fragment);
  g_assert_error(error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID);
  if (!g_str_has_prefix(error->message, prefix) || strstr(error->message, fragment) == NULL)
    g_error("'%s': got '%s', want '%s...%s'", text, error->message, prefix, fragment);
  g_assert_cmpuint(pos.line, ==, line);
  g_assert_cmpuint(pos.column, ==, column);
}

/* Asserts that attribute @i is single @name = @value. */
static void
assert_single(const PpTemplate *tmpl, guint i, const char *name, const char *value)
{
  const PpAttribute *attr = pp_template_get_attribute(tmpl, i);

  g_assert_false(pp_attribute_is_vector(attr));
  g_assert_cmpstr(pp_attribute_get_name(attr), ==, name);
  g_assert_cmpstr(pp_attribute_get_value(attr), ==, value);
}

static void
assert_pair(const PpAttribute *attr, guint i, const char *key, const char *value)
{
  const char *k, *v;

  pp_attribute_vector_get_pair(attr, i, &k, &v);
  g_assert_cmpstr(k, ==, key);
  g_assert_cmpstr(v, ==, value);
}

static void
assert_round_trip(const PpTemplate *tmpl)
{
  g_autofree char *text = pp_template_to_string(tmpl);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpTemplate) again = pp_template_parse(text, strlen(text), NULL, &error);
  g_autofree char *text_again = NULL;

  if (again == NULL)
    g_error("the printed template does not parse: %s\n%s", error->message, text);
  if (!pp_template_equal(tmpl, again))
    g_error("the round trip changed the template:\n%s", text);
  text_again = pp_template_to_string(again);
  g_assert_cmpstr(text, ==, text_again);
}

/* The reference's own examples. */
static void
test_reference_vector(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("pci = [ vendor = \"10de\", Device=11bf ]");
  const PpAttribute *pci;

  g_assert_cmpuint(pp_template_get_n_attributes(tmpl), ==, 1);
  pci = pp_template_get_attribute(tmpl, 0);
  g_assert_true(pp_attribute_is_vector(pci));
  g_assert_cmpstr(pp_attribute_get_name(pci), ==, "PCI");
  g_assert_cmpuint(pp_attribute_vector_get_n_pairs(pci), ==, 2);
  assert_pair(pci, 0, "VENDOR", "10de");
  assert_pair(pci, 1, "DEVICE", "11bf");
  g_assert_cmpstr(pp_attribute_vector_get(pci, "device"), ==, "11bf");
}

static void
test_reference_guide_pci(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("PCI = [\n"
                                        "  VENDOR = \"8086\",\n"
                                        "  DEVICE = \"0a0c\",\n"
                                        "  CLASS  = \"0403\" ]\n"
                                        "PCI = [\n"
                                        "  NETWORK = \"passthrough\",\n"
                                        "  NETWORK_UNAME = \"oneadmin\",\n"
                                        "  TYPE = \"NIC\",\n"
                                        "  CLASS = \"0200\",\n"
                                        "  DEVICE = \"10d3\",\n"
                                        "  VENDOR = \"8086\" ]\n");
  const PpAttribute *nic;

  g_assert_cmpuint(pp_template_get_n_attributes(tmpl), ==, 2);
  nic = pp_template_get_attribute(tmpl, 1);
  g_assert_cmpuint(pp_attribute_vector_get_n_pairs(nic), ==, 6);
  assert_pair(nic, 0, "NETWORK", "passthrough");
  assert_pair(nic, 5, "VENDOR", "8086");
  assert_pair(pp_template_get_attribute(tmpl, 0), 2, "CLASS", "0403");
}

static void
test_unquoted_blank_is_error(void)
{
  parse_fails("A = foo bar", 1, 9, "'bar' follows the value of A on the same line");
  parse_fails("A = foo bar", 1, 9, "A = \"foo bar\"");
  /* The hint quotes what it suggests as the printer would. */
  parse_fails("A = x\"y z\"", 1, 9, "as in A = \"x\\\"y z\"");
  parse_fails("A = \"foo\" bar\n", 1, 11, "'bar' follows the value of A");
  /* But a new attribute may follow on the same line. */
  {
    g_autoptr(PpTemplate) tmpl = parse_ok("A = foo B = bar C=\"x y\" D=[E=1]");

    g_assert_cmpuint(pp_template_get_n_attributes(tmpl), ==, 4);
    assert_single(tmpl, 0, "A", "foo");
    assert_single(tmpl, 1, "B", "bar");
    assert_single(tmpl, 2, "C", "x y");
    assert_pair(pp_template_get_attribute(tmpl, 3), 0, "E", "1");
  }
}

static void
test_comments(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("# a comment\n"
                                        "A = val#x\n"
                                        "B = \"quoted # not a comment\" # a comment\n"
                                        "   # indented comment\n"
                                        "V = [ # after the bracket\n"
                                        "  K = 1, # after a pair\n"
                                        "  # a line of its own\n"
                                        "  L = \"2\" ] # after the vector\n"
                                        "C = 1 # the end, without newline");

  g_assert_cmpuint(pp_template_get_n_attributes(tmpl), ==, 4);
  assert_single(tmpl, 0, "A", "val");
  assert_single(tmpl, 1, "B", "quoted # not a comment");
  assert_pair(pp_template_get_attribute(tmpl, 2), 0, "K", "1");
  assert_pair(pp_template_get_attribute(tmpl, 2), 1, "L", "2");
  assert_single(tmpl, 3, "C", "1");
}

static void
test_empty_vector(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("N = [ ]\nM=[]\nO = [\n\n]");

  g_assert_cmpuint(pp_template_get_n_attributes(tmpl), ==, 3);
  for (guint i = 0; i < 3; i++) {
    g_assert_true(pp_attribute_is_vector(pp_template_get_attribute(tmpl, i)));
    g_assert_cmpuint(pp_attribute_vector_get_n_pairs(pp_template_get_attribute(tmpl, i)), ==, 0);
  }
}

static void
test_vector_trailing_comma_is_error(void)
{
  parse_fails("N = [ A = 1, ]", 1, 14, "expected a key name in vector N, found ']'");
  parse_fails("N = [\n  A = 1,\n]", 3, 1, "expected a key name in vector N");
}

static void
test_empty_values(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("A =\nB = \t\nC = # comment\nD = \"\"\nE =");

  g_assert_cmpuint(pp_template_get_n_attributes(tmpl), ==, 5);
  assert_single(tmpl, 0, "A", "");
  assert_single(tmpl, 1, "B", "");
  assert_single(tmpl, 2, "C", "");
  assert_single(tmpl, 3, "D", "");
  assert_single(tmpl, 4, "E", "");
}

static void
test_quoted_values(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("A = \"spans\nthree\nlines\"\n"
                                        "B = \"say \\\"hi\\\"\"\n"
                                        "C = \"C:\\path\\file\"\n"
                                        "D = \"a backslash at the end \\\\\"\n"
                                        "E = \"comma, = [brackets] # hash\"\n"
                                        "F = \"caf\xc3\xa9 \xe2\x82\xac\"\n");

  assert_single(tmpl, 0, "A", "spans\nthree\nlines");
  assert_single(tmpl, 1, "B", "say \"hi\"");
  assert_single(tmpl, 2, "C", "C:\\path\\file");
  assert_single(tmpl, 3, "D", "a backslash at the end \\");
  assert_single(tmpl, 4, "E", "comma, = [brackets] # hash");
  assert_single(tmpl, 5, "F", "caf\xc3\xa9 \xe2\x82\xac");
}

static void
test_unquoted_values(void)
{
  g_autoptr(PpTemplate) tmpl =
      parse_ok("A = /var/lib/one/img.qcow2\nB = 10.0.0.1/24\nC = a\"b\nD = 0x10DE\n");

  assert_single(tmpl, 0, "A", "/var/lib/one/img.qcow2");
  assert_single(tmpl, 1, "B", "10.0.0.1/24");
  assert_single(tmpl, 2, "C", "a\"b");
  assert_single(tmpl, 3, "D", "0x10DE");
}

static void
test_names_upper_values_kept(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("name = MyVM\ncpu_model = [ model = Host_Passthrough ]");

  assert_single(tmpl, 0, "NAME", "MyVM");
  g_assert_cmpstr(pp_attribute_get_name(pp_template_get_attribute(tmpl, 1)), ==, "CPU_MODEL");
  assert_pair(pp_template_get_attribute(tmpl, 1), 0, "MODEL", "Host_Passthrough");
  g_assert_cmpstr(pp_template_get_single(tmpl, "Name"), ==, "MyVM");
}

static void
test_order_and_duplicates(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("NIC = [ NETWORK = a ]\n"
                                        "PCI = [ CLASS = 0300 ]\n"
                                        "CPU = 1\n"
                                        "PCI = [ CLASS = 0200 ]\n"
                                        "CPU = 2\n"
                                        "NIC = [ NETWORK = b ]\n");

  g_assert_cmpuint(pp_template_get_n_attributes(tmpl), ==, 6);
  assert_pair(pp_template_get_attribute(tmpl, 1), 0, "CLASS", "0300");
  assert_pair(pp_template_get_attribute(tmpl, 3), 0, "CLASS", "0200");
  assert_single(tmpl, 2, "CPU", "1");
  assert_single(tmpl, 4, "CPU", "2");
  assert_pair(pp_template_get_attribute(tmpl, 5), 0, "NETWORK", "b");
  /* Lookups find the first. */
  g_assert_cmpstr(pp_template_get_single(tmpl, "CPU"), ==, "1");
  g_assert_cmpstr(pp_attribute_get_name(pp_template_find(tmpl, "pci")), ==, "PCI");
}

static void
test_vector_duplicate_key_keeps_first(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("PCI = [ VENDOR = 10de, vendor = 8086, DEVICE = 1 ]");
  const PpAttribute *pci = pp_template_get_attribute(tmpl, 0);

  g_assert_cmpuint(pp_attribute_vector_get_n_pairs(pci), ==, 2);
  assert_pair(pci, 0, "VENDOR", "10de");
  assert_pair(pci, 1, "DEVICE", "1");
}

static void
test_several_per_line_and_layout(void)
{
  g_autoptr(PpTemplate) tmpl =
      parse_ok("\r\n  A=1 B =2\tC= 3\r\nV=[X=1,Y=2]W = [\n X = \"1\"\n ,\n Y = 2\n ]\n\n");

  g_assert_cmpuint(pp_template_get_n_attributes(tmpl), ==, 5);
  assert_single(tmpl, 0, "A", "1");
  assert_single(tmpl, 1, "B", "2");
  assert_single(tmpl, 2, "C", "3");
  assert_pair(pp_template_get_attribute(tmpl, 3), 1, "Y", "2");
  assert_pair(pp_template_get_attribute(tmpl, 4), 1, "Y", "2");
}

static void
test_positions_of_attributes(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("A = 1\n  PCI = [ CLASS = 0300 ]");
  PpTextPos pos = pp_attribute_get_pos(pp_template_get_attribute(tmpl, 1));

  g_assert_cmpuint(pos.line, ==, 2);
  g_assert_cmpuint(pos.column, ==, 3);
}

static void
test_errors(void)
{
  parse_fails("= 1", 1, 1, "expected an attribute name, found '='");
  parse_fails("A 1", 1, 3, "expected '=' after A, found '1'");
  parse_fails("A", 1, 2, "expected '=' after A, found the end of the input");
  parse_fails("A = 1\nB\nC = 2", 2, 2, "expected '=' after B, found the end of the line");
  parse_fails("A = ,", 1, 5, "expected a value for A, found ','");
  parse_fails("A = ]", 1, 5, "expected a value for A, found ']'");
  parse_fails("A = 1 ]", 1, 7, "expected an attribute name, found ']'");
  parse_fails("A = \"open\nstill open", 1, 5, "has no closing '\"'");
  parse_fails("V = [ A = 1", 1, 5, "the vector V that starts here has no closing ']'");
  parse_fails("V = [ A = 1 B = 2 ]", 1, 13, "expected ',' or ']' after the value of A in vector V");
  parse_fails("V = [ A = ]", 1, 11, "expected a value for A in vector V");
  parse_fails("V = [ A =\n 1 ]", 1, 10, "expected a value for A in vector V");
  parse_fails("V = [ A = , B = 1 ]", 1, 11, "write \"\" for an empty value");
  parse_fails("V = [ A ]", 1, 9, "expected '=' after A in vector V, found ']'");
  parse_fails("V = [ = 1 ]", 1, 7, "expected a key name in vector V, found '='");
  parse_fails("V = [ A = 1 ] ]", 1, 15, "expected an attribute name, found ']'");
  /* The '[' must be on the line of its '=': otherwise the value is empty. */
  parse_fails("PCI =\n[ CLASS = 0300 ]", 2, 1, "expected an attribute name, found '['");
  parse_fails("A-B = 1", 1, 2, "expected '=' after A, found '-'");
  /* Columns count characters, not bytes. */
  parse_fails("A = \"\xc3\xa9\xc3\xa9\" x", 1, 10, "'x' follows the value of A");
  parse_fails("\xc3\xa9 = 1", 1, 1, "expected an attribute name, found '\xc3\xa9'");
}

static void
test_encoding_errors(void)
{
  static const char nul[] = "A = 1\nB = \"x\0y\"";
  static const char latin1[] = "A = 1\nB = caf\xe9";
  g_autoptr(GError) error = NULL;
  PpTextPos pos = { 0, 0 };

  g_assert_null(pp_template_parse(nul, sizeof(nul) - 1, &pos, &error));
  g_assert_error(error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "line 2, column 7: a NUL byte; a template is text");
  g_assert_cmpuint(pos.line, ==, 2);
  g_clear_error(&error);

  g_assert_null(pp_template_parse(latin1, sizeof(latin1) - 1, &pos, &error));
  g_assert_error(error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(error->message, "line 2, column 8: bytes that are not UTF-8"));
}

static void
test_too_large(void)
{
  gsize len = PP_TEMPLATE_MAX_SIZE + 1;
  g_autofree char *text = g_malloc(len);
  g_autoptr(GError) error = NULL;

  memset(text, '#', len);
  g_assert_null(pp_template_parse(text, len, NULL, &error));
  g_assert_error(error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_TOO_LARGE);
  g_assert_nonnull(strstr(error->message, "more than the limit"));
  g_clear_error(&error);

  /* At the limit it parses: a comment is a template with nothing in it. */
  text[len - 2] = '\n';
  {
    g_autoptr(PpTemplate) tmpl = pp_template_parse(text, len - 1, NULL, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(pp_template_get_n_attributes(tmpl), ==, 0);
  }
}

/* A vector of many keys parses in linear time: with a quadratic duplicate
 * check, 200000 keys take minutes and the test's timeout fails it. */
static void
test_large_vector(void)
{
  GString *text = g_string_new("V = [ ");
  g_autoptr(PpTemplate) tmpl = NULL;
  const PpAttribute *vec;

  for (guint i = 0; i < 200000; i++)
    g_string_append_printf(text, "%sK%u = %u", i ? ", " : "", i, i);
  g_string_append(text, ", k7 = dup ]");
  tmpl = parse_ok(text->str);
  vec = pp_template_get_attribute(tmpl, 0);
  g_assert_cmpuint(pp_attribute_vector_get_n_pairs(vec), ==, 200000);
  g_assert_cmpstr(pp_attribute_vector_get(vec, "k7"), ==, "7");
  g_assert_cmpstr(pp_attribute_vector_get(vec, "K199999"), ==, "199999");
  g_assert_null(pp_attribute_vector_get(vec, "K200000"));
  g_string_free(text, TRUE);
}

static void
test_equal(void)
{
  static const char *const different[] = {
    "A = 1",
    "B = 1",
    "A = 2",
    "A = [ ]",
    "A = [ X = 1 ]",
    "A = [ X = 2 ]",
    "A = [ Y = 1 ]",
    "A = [ X = 1, Y = 1 ]",
    "A = [ Y = 1, X = 1 ]",
    "A = 1 B = 1",
    "B = 1 A = 1",
    "",
  };

  /* Each differs from every other; each equals itself parsed again. */
  for (guint i = 0; i < G_N_ELEMENTS(different); i++) {
    g_autoptr(PpTemplate) a = parse_ok(different[i]);

    for (guint j = 0; j < G_N_ELEMENTS(different); j++) {
      g_autoptr(PpTemplate) b = parse_ok(different[j]);

      if (pp_template_equal(a, b) != (i == j))
        g_error("'%s' and '%s': equal says %d", different[i], different[j], i != j);
    }
  }
}

static void
test_byte_order_mark(void)
{
  g_autoptr(PpTemplate) tmpl = parse_ok("\xef\xbb\xbf"
                                        "A = 1\nB = 2");

  assert_single(tmpl, 0, "A", "1");
  /* Positions count from after the mark. */
  parse_fails("\xef\xbb\xbf"
              "A",
              1, 2, "expected '=' after A");
  /* Elsewhere it is a character like any other, and not a name. */
  parse_fails("A = 1 \xef\xbb\xbf", 1, 7, "expected an attribute name, found '\xef\xbb\xbf'");
}

static void
test_empty_template(void)
{
  g_autoptr(PpTemplate) a = parse_ok("");
  g_autoptr(PpTemplate) b = parse_ok("  \n# only a comment\n\n");
  g_autofree char *text = pp_template_to_string(a);

  g_assert_cmpuint(pp_template_get_n_attributes(a), ==, 0);
  g_assert_cmpuint(pp_template_get_n_attributes(b), ==, 0);
  g_assert_cmpstr(text, ==, "");
}

static void
test_print_format(void)
{
  g_autoptr(PpTemplate) tmpl =
      parse_ok("cpu=1 pci=[vendor=10de,device=\"11bf\"] n=[] e= \nq=\"a \\\"b\\\" c\\\\\"");
  g_autofree char *text = pp_template_to_string(tmpl);

  g_assert_cmpstr(text, ==,
                  "CPU = \"1\"\n"
                  "PCI = [\n"
                  "  VENDOR = \"10de\",\n"
                  "  DEVICE = \"11bf\" ]\n"
                  "N = [ ]\n"
                  "E = \"\"\n"
                  "Q = \"a \\\"b\\\" c\\\\\"\n");
}

static void
test_builder(void)
{
  g_autoptr(PpTemplate) tmpl = pp_template_new();
  PpAttribute *vec;

  pp_template_add_single(tmpl, "name", "vm");
  vec = pp_template_add_vector(tmpl, "pci");
  g_assert_true(pp_attribute_vector_add(vec, "class", "0300"));
  g_assert_false(pp_attribute_vector_add(vec, "CLASS", "0200"));
  g_assert_cmpstr(pp_attribute_vector_get(vec, "CLASS"), ==, "0300");
  assert_single(tmpl, 0, "NAME", "vm");
  g_assert_true(pp_template_name_is_valid("A_1"));
  g_assert_false(pp_template_name_is_valid("A-1"));
  g_assert_false(pp_template_name_is_valid(""));
  assert_round_trip(tmpl);
}

/* Values that stress the printer's quoting: quotes, backslashes in every
 * position, newlines, punctuation. */
static const char *const tricky_values[] = {
  "",
  " ",
  "\"",
  "\\",
  "\\\\",
  "\\\"",
  "\"\\",
  "a\\",
  "\\a",
  "a\\\"b",
  "\\\\\"\"",
  "#",
  "a # b",
  "[",
  "]",
  ",",
  "=",
  "\n",
  "\r\n",
  "line\nline",
  "\t",
  "x\"\"\"y",
  "C:\\path",
  "end\\\\",
  "caf\xc3\xa9",
  "\xf0\x9f\x98\x80",
};

static void
test_round_trip_tricky_values(void)
{
  for (guint i = 0; i < G_N_ELEMENTS(tricky_values); i++) {
    g_autoptr(PpTemplate) tmpl = pp_template_new();
    PpAttribute *vec;

    pp_template_add_single(tmpl, "V", tricky_values[i]);
    vec = pp_template_add_vector(tmpl, "W");
    pp_attribute_vector_add(vec, "K", tricky_values[i]);
    pp_attribute_vector_add(vec, "L", tricky_values[(i + 1) % G_N_ELEMENTS(tricky_values)]);
    assert_round_trip(tmpl);
  }
}

/* Random templates built from the alphabet that hurts most. */
static void
test_round_trip_random(void)
{
  static const char alphabet[] = "aZ09_ \t\n\r\"\\#,=[]\xc3\xa9";

  for (guint round = 0; round < 2000; round++) {
    g_autoptr(PpTemplate) tmpl = pp_template_new();
    guint n = g_test_rand_int_range(0, 6);

    for (guint a = 0; a < n; a++) {
      char name[8];
      guint name_len = g_test_rand_int_range(1, 6);

      for (guint c = 0; c < name_len; c++)
        name[c] = "AB_9x"[g_test_rand_int_range(0, 5)];
      name[name_len] = '\0';

      if (g_test_rand_bit()) {
        GString *value = g_string_new(NULL);
        guint len = g_test_rand_int_range(0, 12);

        for (guint c = 0; c < len; c++) {
          guint pick = g_test_rand_int_range(0, sizeof(alphabet) - 1);

          if ((guchar)alphabet[pick] == 0xc3 || (guchar)alphabet[pick] == 0xa9)
            g_string_append(value, "\xc3\xa9");
          else
            g_string_append_c(value, alphabet[pick]);
        }
        pp_template_add_single(tmpl, name, value->str);
        g_string_free(value, TRUE);
      } else {
        PpAttribute *vec = pp_template_add_vector(tmpl, name);
        guint pairs = g_test_rand_int_range(0, 4);

        for (guint k = 0; k < pairs; k++) {
          char key[4] = { "KLM"[k % 3], "0123"[g_test_rand_int_range(0, 4)], '\0' };

          pp_attribute_vector_add(
              vec, key, tricky_values[g_test_rand_int_range(0, G_N_ELEMENTS(tricky_values))]);
        }
      }
    }
    assert_round_trip(tmpl);
  }
}

/* Texts in every style the parser accepts: parse, print, parse again. */
static void
test_round_trip_parsed(void)
{
  static const char *const texts[] = {
    "A = val#x\nB = \"q\\\"\"\nC = C:\\dir\nD =\n",
    "pci = [ vendor = \"10de\", Device=11bf ] N = [ ]",
    "X = \"a\\\\\" Y = \"\\\\\\\"\" Z = \"\\q\"",
    "CONTEXT = [ NETWORK = \"YES\", SSH_PUBLIC_KEY = \"$USER[SSH_PUBLIC_KEY]\" ]",
    "DISK = [ IMAGE = \"ubuntu\" ]\nDISK = [ IMAGE = \"data\", SIZE = 1024 ]",
  };

  for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
    g_autoptr(PpTemplate) tmpl = parse_ok(texts[i]);

    assert_round_trip(tmpl);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/template/reference/vector", test_reference_vector);
  g_test_add_func("/template/reference/guide-pci", test_reference_guide_pci);
  g_test_add_func("/template/reference/unquoted-blank", test_unquoted_blank_is_error);
  g_test_add_func("/template/reference/comment-after-value", test_comments);
  g_test_add_func("/template/reference/empty-vector", test_empty_vector);
  g_test_add_func("/template/reference/trailing-comma", test_vector_trailing_comma_is_error);
  g_test_add_func("/template/empty-values", test_empty_values);
  g_test_add_func("/template/quoted", test_quoted_values);
  g_test_add_func("/template/unquoted", test_unquoted_values);
  g_test_add_func("/template/names-upper", test_names_upper_values_kept);
  g_test_add_func("/template/order-duplicates", test_order_and_duplicates);
  g_test_add_func("/template/vector-duplicate-key", test_vector_duplicate_key_keeps_first);
  g_test_add_func("/template/layout", test_several_per_line_and_layout);
  g_test_add_func("/template/attribute-positions", test_positions_of_attributes);
  g_test_add_func("/template/errors", test_errors);
  g_test_add_func("/template/encoding", test_encoding_errors);
  g_test_add_func("/template/too-large", test_too_large);
  g_test_add_func("/template/empty", test_empty_template);
  g_test_add_func("/template/large-vector", test_large_vector);
  g_test_add_func("/template/equal", test_equal);
  g_test_add_func("/template/byte-order-mark", test_byte_order_mark);
  g_test_add_func("/template/print-format", test_print_format);
  g_test_add_func("/template/builder", test_builder);
  g_test_add_func("/template/round-trip/tricky", test_round_trip_tricky_values);
  g_test_add_func("/template/round-trip/random", test_round_trip_random);
  g_test_add_func("/template/round-trip/parsed", test_round_trip_parsed);

  return g_test_run();
}
