#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include "pp-cli.h"

gboolean
pp_cli_parse_options(const char *usage, const char *summary, const GOptionEntry *entries, int *argc,
                     char ***argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new(usage);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary(context, summary);
  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, argc, argv, &error)) {
    pp_say_error("%s (try --help)", error->message);
    return FALSE;
  }
  return TRUE;
}
