#define G_LOG_DOMAIN "pp-deployer"

#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "pp-autoptr.h"
#include "pp-deployer.h"

/* clang-format off */
G_DEFINE_QUARK(pp-deployer-error-quark, pp_deployer_error)
/* clang-format on */

/* The connections, shared by the worker threads: one per URI, opened on
 * first use and reopened when libvirt says it died. Reference counted, so
 * that calls in flight outlive pp_deployer_free(). */
typedef struct {
  GMutex lock;
  GHashTable *conns; /* uri -> virConnectPtr */
} Shared;

struct _PpDeployer {
  Shared *shared;
};

typedef struct {
  Shared *shared;
  char *uri;
  char *name;
  char *xml; /* NULL: destroy */
} Call;

static void
shared_clear(gpointer data)
{
  Shared *shared = data;

  g_hash_table_unref(shared->conns);
  g_mutex_clear(&shared->lock);
}

static void
call_free(Call *call)
{
  g_atomic_rc_box_release_full(call->shared, shared_clear);
  g_free(call->uri);
  g_free(call->name);
  g_free(call->xml);
  g_free(call);
}

/* libvirt prints its errors on stderr unless told otherwise; we report
 * them ourselves, once, where they happen. */
static void
silence(void *user_data, virErrorPtr error)
{
}

static void
close_conn(gpointer conn)
{
  virConnectClose(conn);
}

PpDeployer *
pp_deployer_new(void)
{
  static gsize once = 0;
  PpDeployer *deployer = g_new0(PpDeployer, 1);

  if (g_once_init_enter(&once)) {
    /* Before any thread calls libvirt (its rule for threaded programs). */
    virInitialize();
    virSetErrorFunc(NULL, silence);
    g_once_init_leave(&once, 1);
  }
  deployer->shared = g_atomic_rc_box_new0(Shared);
  g_mutex_init(&deployer->shared->lock);
  deployer->shared->conns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, close_conn);
  return deployer;
}

void
pp_deployer_free(PpDeployer *deployer)
{
  if (deployer == NULL)
    return;
  g_atomic_rc_box_release_full(deployer->shared, shared_clear);
  g_free(deployer);
}

static void
set_libvirt_error(GError **error, PpDeployerError code, const char *what)
{
  const char *message = virGetLastErrorMessage();

  g_set_error(error, PP_DEPLOYER_ERROR, code, "libvirt: %s: %s", what,
              message ? message : "no message");
}

/* The connection of @uri, held by the caller (a reference of its own).
 * Worker thread. */
static virConnectPtr
get_conn(Shared *shared, const char *uri, GError **error)
{
  virConnectPtr conn;

  g_mutex_lock(&shared->lock);
  conn = g_hash_table_lookup(shared->conns, uri);
  if (conn != NULL && virConnectIsAlive(conn) != 1) {
    g_debug("'%s': the connection died, reopening", uri);
    g_hash_table_remove(shared->conns, uri);
    conn = NULL;
  }
  if (conn == NULL) {
    conn = virConnectOpen(uri);
    if (conn == NULL) {
      g_mutex_unlock(&shared->lock);
      set_libvirt_error(error, PP_DEPLOYER_ERROR_CONNECT, uri);
      return NULL;
    }
    g_hash_table_insert(shared->conns, g_strdup(uri), conn);
  }
  virConnectRef(conn);
  g_mutex_unlock(&shared->lock);
  return conn;
}

#define KVM_TYPE "<domain type='kvm'>"

/* A kvm domain on a host whose libvirt offers no KVM (no /dev/kvm: a
 * nested or emulated host) runs as type qemu, QEMU's own emulation: slow,
 * but passthrough works the same. Returns: (transfer full): the XML to use
 * instead, or NULL to use @xml as it is. Worker thread. */
static char *
without_kvm(virConnectPtr conn, const char *xml)
{
  g_autofree char *caps = NULL;

  if (!g_str_has_prefix(xml, KVM_TYPE))
    return NULL;
  caps = virConnectGetCapabilities(conn);
  if (caps == NULL || strstr(caps, "<domain type='kvm'") != NULL)
    return NULL;
  g_debug("no KVM on this host's libvirt: the domain runs as type qemu");
  return g_strconcat("<domain type='qemu'>", xml + strlen(KVM_TYPE), NULL);
}

static gboolean
do_start(Shared *shared, const Call *call, GError **error)
{
  g_autoptr(virConnect) conn = get_conn(shared, call->uri, error);
  g_autoptr(virDomain) dom = NULL;
  g_autofree char *xml = NULL;

  if (conn == NULL)
    return FALSE;
  dom = virDomainLookupByName(conn, call->name);
  if (dom != NULL && virDomainIsActive(dom) == 1) {
    g_debug("%s on '%s': already running", call->name, call->uri);
    return TRUE;
  }
  g_clear_pointer(&dom, virDomainFree);
  xml = without_kvm(conn, call->xml);
  dom = virDomainCreateXML(conn, xml ? xml : call->xml, VIR_DOMAIN_NONE);
  if (dom == NULL) {
    g_autofree char *what = g_strdup_printf("starting %s on '%s'", call->name, call->uri);

    set_libvirt_error(error, PP_DEPLOYER_ERROR_LIBVIRT, what);
    return FALSE;
  }
  g_debug("%s on '%s': started", call->name, call->uri);
  return TRUE;
}

static gboolean
do_destroy(Shared *shared, const Call *call, GError **error)
{
  g_autoptr(virConnect) conn = get_conn(shared, call->uri, error);
  g_autoptr(virDomain) dom = NULL;

  if (conn == NULL)
    return FALSE;
  dom = virDomainLookupByName(conn, call->name);
  if (dom == NULL) {
    virErrorPtr last = virGetLastError();

    if (last != NULL && last->code == VIR_ERR_NO_DOMAIN) {
      g_debug("%s on '%s': no such domain, nothing to destroy", call->name, call->uri);
      return TRUE;
    }
    set_libvirt_error(error, PP_DEPLOYER_ERROR_LIBVIRT, call->name);
    return FALSE;
  }
  if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) != 0) {
    g_autofree char *what = g_strdup_printf("destroying %s on '%s'", call->name, call->uri);

    set_libvirt_error(error, PP_DEPLOYER_ERROR_LIBVIRT, what);
    return FALSE;
  }
  g_debug("%s on '%s': destroyed", call->name, call->uri);
  return TRUE;
}

static void
run_call(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Call *call = task_data;
  GError *error = NULL;
  gboolean ok = call->xml != NULL ? do_start(call->shared, call, &error)
                                  : do_destroy(call->shared, call, &error);

  virResetLastError();
  if (ok)
    g_task_return_boolean(task, TRUE);
  else
    g_task_return_error(task, error);
}

static void
dispatch(PpDeployer *deployer, const char *uri, const char *name, const char *xml, gpointer tag,
         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
  Call *call = g_new0(Call, 1);

  call->shared = g_atomic_rc_box_acquire(deployer->shared);
  call->uri = g_strdup(uri);
  call->name = g_strdup(name);
  call->xml = g_strdup(xml);
  g_task_set_source_tag(task, tag);
  g_task_set_task_data(task, call, (GDestroyNotify)call_free);
  g_task_run_in_thread(task, run_call);
}

void
pp_deployer_start_async(PpDeployer *deployer, const char *uri, const char *name, const char *xml,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(deployer != NULL && uri != NULL && name != NULL && xml != NULL);
  dispatch(deployer, uri, name, xml, pp_deployer_start_async, callback, user_data);
}

gboolean
pp_deployer_start_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

void
pp_deployer_destroy_async(PpDeployer *deployer, const char *uri, const char *name,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(deployer != NULL && uri != NULL && name != NULL);
  dispatch(deployer, uri, name, NULL, pp_deployer_destroy_async, callback, user_data);
}

gboolean
pp_deployer_destroy_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}
