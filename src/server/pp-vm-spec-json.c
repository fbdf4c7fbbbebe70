#define G_LOG_DOMAIN "pp-vm-spec-json"

#include "config.h"

#include <string.h>

#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-output.h"
#include "pp-vm-spec-json.h"

static const char *const machines[] = {
  [PP_VM_MACHINE_Q35] = "q35",
  [PP_VM_MACHINE_I440FX] = "i440fx",
};

static const char *const graphics_types[] = {
  [PP_VM_GRAPHICS_NONE] = "none",
  [PP_VM_GRAPHICS_VNC] = "vnc",
  [PP_VM_GRAPHICS_SPICE] = "spice",
};

static const char *const nic_kinds[] = {
  [PP_VM_NIC_BRIDGE] = "bridge",
  [PP_VM_NIC_PCI] = "pci",
};

static const char *const context_formats[] = {
  [PP_VM_CONTEXT_ONE] = "one",
  [PP_VM_CONTEXT_NOCLOUD] = "nocloud",
};

static json_t *
pos_to_json(PpTextPos pos)
{
  return json_pack("[i,i]", (int)pos.line, (int)pos.column);
}

char *
pp_vm_spec_domain_to_json(const PpVmSpec *spec)
{
  g_autoptr(json_t) root = NULL;
  json_t *disks = json_array();
  json_t *nics = json_array();

  g_return_val_if_fail(spec != NULL, NULL);

  for (guint i = 0; i < spec->disks->len; i++) {
    const PpVmDisk *disk = g_ptr_array_index(spec->disks, i);

    /* An image is kept by name: its file is found at each deploy. */
    if (disk->image != NULL)
      pp_json_append(disks,
                     json_pack("{s:s,s:o,s:o}", "image", disk->image, "target",
                               pp_json_text(disk->target), "at", pos_to_json(disk->image_pos)));
    else
      pp_json_append(disks,
                     json_pack("{s:o,s:o,s:o}", "source", pp_json_text(disk->source), "format",
                               pp_json_text(disk->format), "target", pp_json_text(disk->target)));
  }
  for (guint i = 0; i < spec->nics->len; i++) {
    const PpVmNic *nic = g_ptr_array_index(spec->nics, i);

    pp_json_append(nics, json_pack("{s:s,s:o,s:I,s:o,s:o,s:i,s:i,s:o,s:o,s:o}", "kind",
                                   nic_kinds[nic->kind], "network", pp_json_text(nic->network),
                                   "network_id", (json_int_t)nic->network_id, "network_uname",
                                   pp_json_text(nic->network_uname), "ip", pp_json_text(nic->ip),
                                   "vlan_id", (int)nic->vlan_id, "request", (int)nic->request,
                                   "mac", pp_json_text(nic->mac), "model", pp_json_text(nic->model),
                                   "bridge", pp_json_text(nic->bridge)));
  }
  root = json_pack(
      "{s:i,s:s,s:o,s:o,s:{s:o,s:o,s:o,s:o,s:o,s:o,s:o},s:{s:s,s:o,s:i,s:o,s:o}}", "vcpu",
      (int)spec->vcpu, "machine", machines[spec->machine], "disks", disks, "nics", nics, "os",
      "kernel", pp_json_text(spec->kernel_image != NULL ? NULL : spec->kernel), "initrd",
      pp_json_text(spec->initrd_image != NULL ? NULL : spec->initrd), "kernel_cmd",
      pp_json_text(spec->kernel_cmd), "kernel_image", pp_json_text(spec->kernel_image),
      "kernel_image_at", pos_to_json(spec->kernel_image_pos), "initrd_image",
      pp_json_text(spec->initrd_image), "initrd_image_at", pos_to_json(spec->initrd_image_pos),
      "graphics", "type", graphics_types[spec->graphics.type], "listen",
      pp_json_text(spec->graphics.listen), "port", (int)spec->graphics.port, "passwd",
      pp_json_text(spec->graphics.passwd), "keymap", pp_json_text(spec->graphics.keymap));
  g_assert(root != NULL);
  /* Only a template with CONTEXT says one: a spec without reads as one
   * stored before issue 13. */
  if (spec->context.present) {
    json_t *vars = json_array();

    for (guint i = 0; i < spec->context.vars->len; i++) {
      const PpVmContextVar *var = g_ptr_array_index(spec->context.vars, i);

      pp_json_append(vars, json_pack("{s:s,s:s}", "name", var->name, "value", var->value));
    }
    json_object_set_new(
        root, "context",
        json_pack("{s:s,s:o}", "format", context_formats[spec->context.format], "vars", vars));
  }
  return json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

/* A string member, or NULL (null or missing); FALSE when it is another type. */
static gboolean
get_text(json_t *object, const char *key, char **ret, GError **error)
{
  json_t *value = json_object_get(object, key);

  if (value == NULL || json_is_null(value)) {
    *ret = NULL;
    return TRUE;
  }
  if (!json_is_string(value)) {
    g_set_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_INVALID,
                "the stored spec's '%s' is not a string", key);
    return FALSE;
  }
  *ret = g_strdup(json_string_value(value));
  return TRUE;
}

static gboolean
get_pos(json_t *object, const char *key, PpTextPos *ret, GError **error)
{
  json_int_t line = 0, column = 0;
  json_t *value = json_object_get(object, key);

  if (value != NULL && json_unpack(value, "[II]", &line, &column) != 0) {
    g_set_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_INVALID,
                "the stored spec's '%s' is not [line, column]", key);
    return FALSE;
  }
  ret->line = (guint)CLAMP(line, 0, G_MAXUINT);
  ret->column = (guint)CLAMP(column, 0, G_MAXUINT);
  return TRUE;
}

/* The index of @name in @names, or -1. */
static gint
lookup(const char *const *names, guint n, const char *name)
{
  for (guint i = 0; name != NULL && i < n; i++) {
    if (strcmp(names[i], name) == 0)
      return (gint)i;
  }
  return -1;
}

static gboolean
fail(GError **error, const char *what)
{
  g_set_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_INVALID,
              "the stored spec does not read: %s", what);
  return FALSE;
}

/* "context": {"format": "one", "vars": [{"name": "A", "value": "x"}]};
 * none (NULL) is a template without CONTEXT. */
static gboolean
context_from_json(PpVmSpec *spec, json_t *context, GError **error)
{
  const char *format = NULL;
  json_t *vars = NULL;
  gint index;

  if (context == NULL)
    return TRUE;
  if (json_unpack(context, "{s:s,s:o}", "format", &format, "vars", &vars) != 0 ||
      !json_is_array(vars))
    return fail(error, "context has no format or vars");
  index = lookup(context_formats, G_N_ELEMENTS(context_formats), format);
  if (index < 0)
    return fail(error, "context of an unknown format");
  spec->context.present = TRUE;
  spec->context.format = (PpVmContextFormat)index;
  for (gsize i = 0; i < json_array_size(vars); i++) {
    const char *name = NULL, *value = NULL;
    PpVmContextVar *var;

    if (json_unpack(json_array_get(vars, i), "{s:s,s:s}", "name", &name, "value", &value) != 0 ||
        name[0] == '\0')
      return fail(error, "a context var without its name or value");
    var = g_new0(PpVmContextVar, 1);
    var->name = g_strdup(name);
    var->value = g_strdup(value);
    g_ptr_array_add(spec->context.vars, var);
  }
  return TRUE;
}

gboolean
pp_vm_spec_domain_from_json(PpVmSpec *spec, const char *json, GError **error)
{
  g_autoptr(json_t) root = NULL;
  json_t *disks = NULL, *nics = NULL, *os = NULL, *graphics = NULL;
  const char *machine = NULL, *graphics_type = NULL;
  json_int_t vcpu = 0, port = -1;
  gint index;
  json_error_t json_error;

  g_return_val_if_fail(spec != NULL && json != NULL, FALSE);

  root = json_loads(json, 0, &json_error);
  if (root == NULL)
    return fail(error, json_error.text);
  if (json_unpack(root, "{s:I,s:s,s:o,s:o,s:o,s:o}", "vcpu", &vcpu, "machine", &machine, "disks",
                  &disks, "nics", &nics, "os", &os, "graphics", &graphics) != 0 ||
      !json_is_array(disks) || !json_is_array(nics) || !json_is_object(os) ||
      !json_is_object(graphics))
    return fail(error, "vcpu, machine, disks, nics, os or graphics missing or of another type");
  if (vcpu < 1 || vcpu > G_MAXUINT)
    return fail(error, "vcpu out of range");
  spec->vcpu = (guint)vcpu;
  index = lookup(machines, G_N_ELEMENTS(machines), machine);
  if (index < 0)
    return fail(error, "unknown machine");
  spec->machine = (PpVmMachine)index;

  for (gsize i = 0; i < json_array_size(disks); i++) {
    json_t *item = json_array_get(disks, i);
    PpVmDisk *disk = g_new0(PpVmDisk, 1);

    g_ptr_array_add(spec->disks, disk);
    if (!json_is_object(item))
      return fail(error, "a disk is not an object");
    if (!get_text(item, "image", &disk->image, error) ||
        !get_text(item, "source", &disk->source, error) ||
        !get_text(item, "format", &disk->format, error) ||
        !get_text(item, "target", &disk->target, error) ||
        !get_pos(item, "at", &disk->image_pos, error))
      return FALSE;
    if ((disk->image == NULL) == (disk->source == NULL))
      return fail(error, "a disk has both an image and a source, or neither");
  }
  for (gsize i = 0; i < json_array_size(nics); i++) {
    json_t *item = json_array_get(nics, i);
    PpVmNic *nic = g_new0(PpVmNic, 1);
    const char *kind = nic_kinds[PP_VM_NIC_BRIDGE];
    json_int_t network_id = 0, vlan_id = -1, request = -1;

    nic->vlan_id = -1;
    nic->request = -1;
    g_ptr_array_add(spec->nics, nic);
    if (!json_is_object(item))
      return fail(error, "a NIC is not an object");
    if (!get_text(item, "bridge", &nic->bridge, error) ||
        !get_text(item, "model", &nic->model, error) || !get_text(item, "mac", &nic->mac, error) ||
        !get_text(item, "network", &nic->network, error) ||
        !get_text(item, "network_uname", &nic->network_uname, error) ||
        !get_text(item, "ip", &nic->ip, error))
      return FALSE;
    /* A spec stored before issue 12 has bridged NICs only, without these. */
    if (json_unpack(item, "{s?s,s?I,s?I,s?I}", "kind", &kind, "network_id", &network_id, "vlan_id",
                    &vlan_id, "request", &request) != 0)
      return fail(error, "a NIC's kind, network_id, vlan_id or request is of another type");
    index = lookup(nic_kinds, G_N_ELEMENTS(nic_kinds), kind);
    if (index < 0)
      return fail(error, "a NIC of an unknown kind");
    if (network_id < 0 || vlan_id < -1 || vlan_id > 4094 || request < -1 || request > G_MAXINT)
      return fail(error, "a NIC's network_id, vlan_id or request out of range");
    if ((index == PP_VM_NIC_PCI) != (request >= 0))
      return fail(error, "a PCI NIC without its request, or a bridged NIC with one");
    nic->kind = (PpVmNicKind)index;
    nic->network_id = (gint64)network_id;
    nic->vlan_id = (gint)vlan_id;
    nic->request = (gint)request;
  }
  if (!get_text(os, "kernel", &spec->kernel, error) ||
      !get_text(os, "initrd", &spec->initrd, error) ||
      !get_text(os, "kernel_cmd", &spec->kernel_cmd, error) ||
      !get_text(os, "kernel_image", &spec->kernel_image, error) ||
      !get_pos(os, "kernel_image_at", &spec->kernel_image_pos, error) ||
      !get_text(os, "initrd_image", &spec->initrd_image, error) ||
      !get_pos(os, "initrd_image_at", &spec->initrd_image_pos, error))
    return FALSE;

  if (!context_from_json(spec, json_object_get(root, "context"), error))
    return FALSE;

  if (json_unpack(graphics, "{s:s,s:I}", "type", &graphics_type, "port", &port) != 0)
    return fail(error, "graphics has no type or port");
  index = lookup(graphics_types, G_N_ELEMENTS(graphics_types), graphics_type);
  if (index < 0 || port < -1 || port > 65535)
    return fail(error, "unknown graphics type, or port out of range");
  spec->graphics.type = (PpVmGraphicsType)index;
  spec->graphics.port = (gint)port;
  return get_text(graphics, "listen", &spec->graphics.listen, error) &&
         get_text(graphics, "passwd", &spec->graphics.passwd, error) &&
         get_text(graphics, "keymap", &spec->graphics.keymap, error);
}
